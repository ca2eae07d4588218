// The artifact service v4 end to end: the real `@actions/artifact` client (in a child process with a
// job's environment) uploads, lists and downloads through a real server on a loopback port, over
// real PostgreSQL and the local blob store; then the refusals: a finished attempt's token, another
// attempt's upload, a tampered signed URL, a finalize with the wrong digest.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  ids,
  rawUpload,
  runningAttempt,
  startArtifactServer,
  toolkit,
  twirp,
  type ArtifactServer,
} from "./helpers.js";

let s: ArtifactServer;
let work: string;

before(async () => {
  s = await startArtifactServer();
  work = await mkdtemp(join(tmpdir(), "airlock-artifact-ws-"));
});
after(async () => {
  await s?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

const sha256 = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

describe("the artifact service with the real toolkit client", () => {
  it("uploads files in several blocks, lists them and downloads them back byte-identical", async () => {
    const a = await runningAttempt(s, { tier: "untrusted" });
    const src = join(work, "src");
    await mkdir(join(src, "sub"), { recursive: true });
    // Random bytes do not compress: the zip is over two 8 MiB blocks, staged concurrently.
    const big = randomBytes(17 * 1024 * 1024 + 123);
    const small = Buffer.from("hello, artifacts\n");
    await writeFile(join(src, "sub", "big.bin"), big);
    await writeFile(join(src, "hello.txt"), small);

    const up = await toolkit(s, a, work, [
      "upload",
      "my-dist",
      src,
      join(src, "hello.txt"),
      join(src, "sub", "big.bin"),
    ]);
    assert.equal(up.ok, true, up.error);
    const id = up.out!.id as number;
    const row = (
      await s.db.pool.query(
        `SELECT state, sha256, size, trust_tier, node_id, job_id FROM artifacts WHERE id = $1`,
        [id],
      )
    ).rows[0] as Record<string, unknown>;
    assert.equal(row.state, "finalized");
    assert.equal(row.sha256, up.out!.digest);
    assert.equal(Number(row.size), up.out!.size);
    assert.equal(row.trust_tier, "untrusted");
    assert.notEqual(row.node_id, null);
    assert.equal(Number(row.job_id), a.jobId);
    assert.equal(await s.store.has(String(row.sha256)), true);
    const staged = await s.db.pool.query(`SELECT 1 FROM artifact_upload_blocks WHERE artifact_id = $1`, [id]);
    assert.equal(staged.rowCount, 0);

    // Another job of the same run lists and downloads it.
    const b = await runningAttempt(s, { runId: a.runId });
    const listed = await toolkit(s, b, work, ["list"]);
    assert.equal(listed.ok, true, listed.error);
    const arts = listed.out!.artifacts as Array<Record<string, unknown>>;
    assert.deepEqual(
      arts.map((x) => [x.name, x.id, x.size, x.digest]),
      // The digest as GitHub lists it (download-artifact compares it with sha256:<what it read>).
      [["my-dist", id, up.out!.size, `sha256:${String(up.out!.digest)}`]],
    );
    const dest = join(work, "dest");
    const down = await toolkit(s, b, work, [
      "download",
      String(id),
      dest,
      `sha256:${String(up.out!.digest)}`,
    ]);
    assert.equal(down.ok, true, down.error);
    assert.equal(down.out!.digestMismatch, false);
    assert.ok((await readFile(join(dest, "hello.txt"))).equals(small));
    assert.ok((await readFile(join(dest, "sub", "big.bin"))).equals(big));

    // A second upload of the same name in the run attempt is refused (names are unique per run).
    const again = await toolkit(s, b, work, ["upload", "my-dist", src, join(src, "hello.txt")]);
    assert.equal(again.ok, false);
    assert.match(again.error!, /409/);
  });

  it("serves byte ranges of a download", async () => {
    const a = await runningAttempt(s);
    const bytes = randomBytes(5000);
    await rawUpload(s, a, "ranged", bytes);
    const fin = await twirp(s, a.token, "FinalizeArtifact", {
      ...ids(a),
      name: "ranged",
      size: "5000",
      hash: `sha256:${sha256(bytes)}`,
    });
    assert.equal(fin.status, 200);
    const { body } = await twirp(s, a.token, "GetSignedArtifactURL", { ...ids(a), name: "ranged" });
    const res = await fetch(String(body.signed_url), { headers: { range: "bytes=100-199" } });
    assert.equal(res.status, 206);
    assert.equal(res.headers.get("content-range"), "bytes 100-199/5000");
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(bytes.subarray(100, 200)));
    const whole = await fetch(String(body.signed_url));
    assert.equal(whole.status, 200);
    assert.equal(sha256(Buffer.from(await whole.arrayBuffer())), sha256(bytes));
  });
});

describe("the artifact service's refusals", () => {
  it("refuses the token of a finished attempt, and of a superseded delivery attempt", async () => {
    const a = await runningAttempt(s);
    assert.equal((await twirp(s, a.token, "ListArtifacts", ids(a))).status, 200);
    await s.db.pool.query(`UPDATE jobs SET state = 'completed' WHERE id = $1`, [a.jobId]);
    const dead = await twirp(s, a.token, "ListArtifacts", ids(a));
    assert.equal(dead.status, 401);
    assert.equal(dead.body.code, "unauthenticated");
    assert.deepEqual(dead.body.meta, { airlock_code: "UNAUTHORIZED" });
    // The real client gets a one-line error and does not retry a 401.
    const listed = await toolkit(s, a, work, ["list"]);
    assert.equal(listed.ok, false);
    assert.match(listed.error!, /401/);

    const b = await runningAttempt(s);
    await s.db.pool.query(`UPDATE jobs SET attempt = 2 WHERE id = $1`, [b.jobId]);
    assert.equal((await twirp(s, b.token, "ListArtifacts", ids(b))).status, 401);
    // Forged tokens: another key, or none.
    assert.equal((await twirp(s, b.token.slice(0, -4) + "AAAA", "ListArtifacts", ids(b))).status, 401);
    assert.equal((await twirp(s, "", "ListArtifacts", ids(b))).status, 401);
  });

  it("refuses a node's token and signed URLs once the same attempt number is on another node", async () => {
    // rejectJob gives the attempt number back, so the next node runs "attempt 1" again.
    const a = await runningAttempt(s);
    const bytes = Buffer.from("first node's bytes");
    const { uploadUrl } = await rawUpload(s, a, "handed-over", bytes);
    const other = await s.db.pool.query<{ id: string }>(
      `INSERT INTO nodes (name) VALUES ('second-node') RETURNING id`,
    );
    await s.db.pool.query(`UPDATE jobs SET node_id = $2 WHERE id = $1`, [a.jobId, other.rows[0]!.id]);
    const stale = await twirp(s, a.token, "ListArtifacts", ids(a));
    assert.equal(stale.status, 401);
    assert.match(String(stale.body.msg), /given to another node/);
    const put = await fetch(`${uploadUrl}&comp=block&blockid=QkJCQg%3D%3D`, {
      method: "PUT",
      body: "more",
      headers: { "content-type": "application/octet-stream" },
    });
    assert.equal(put.status, 401);
    // The second node's own token works.
    const fresh = await s.svc.mintRuntimeToken(a.jobId, 1);
    assert.equal((await twirp(s, fresh, "ListArtifacts", ids(a))).status, 200);
  });

  it("keeps one attempt's upload from another attempt", async () => {
    const owner = await runningAttempt(s);
    const bytes = Buffer.from("owner's bytes");
    const { uploadUrl, artifactId } = await rawUpload(s, owner, "private", bytes);
    const right = { size: String(bytes.length), hash: `sha256:${sha256(bytes)}` };

    // A job of another run names the owner's run: nothing there for it.
    const stranger = await runningAttempt(s);
    const foreign = {
      workflow_run_backend_id: `run-${owner.runId}`,
      workflow_job_run_backend_id: `job-${owner.jobId}`,
    };
    for (const method of ["FinalizeArtifact", "GetSignedArtifactURL", "DeleteArtifact"]) {
      const r = await twirp(s, stranger.token, method, { ...foreign, name: "private", ...right });
      assert.equal(r.status, 404, method);
    }
    // A job of the same run can neither finalize it nor create under the owner's job id.
    const sibling = await runningAttempt(s, { runId: owner.runId });
    const fin = await twirp(s, sibling.token, "FinalizeArtifact", {
      ...ids(sibling),
      name: "private",
      ...right,
    });
    assert.equal(fin.status, 404);
    const posed = await twirp(s, sibling.token, "CreateArtifact", { ...foreign, name: "other" });
    assert.equal(posed.status, 403);
    // Not finalized yet: not listed, no download URL.
    const listed = await twirp(s, sibling.token, "ListArtifacts", ids(sibling));
    assert.deepEqual(listed.body.artifacts, []);
    // The owner's signed URL on another artifact's path fails its signature.
    const other = await rawUpload(s, stranger, "theirs", Buffer.from("x"));
    const moved = uploadUrl.replace(`/blobs/${artifactId}?`, `/blobs/${other.artifactId}?`);
    const r = await fetch(`${moved}&comp=block&blockid=QUFBQQ%3D%3D`, {
      method: "PUT",
      body: "evil",
      headers: { "content-type": "application/octet-stream" },
    });
    assert.equal(r.status, 401);
    assert.equal(r.headers.get("x-ms-error-code"), "UNAUTHORIZED");
    // The owner finalizes fine.
    assert.equal(
      (await twirp(s, owner.token, "FinalizeArtifact", { ...ids(owner), name: "private", ...right })).status,
      200,
    );
  });

  it("refuses a tampered signed URL", async () => {
    const a = await runningAttempt(s);
    const bytes = Buffer.from("signed bytes");
    await rawUpload(s, a, "signed", bytes);
    await twirp(s, a.token, "FinalizeArtifact", {
      ...ids(a),
      name: "signed",
      size: String(bytes.length),
      hash: `sha256:${sha256(bytes)}`,
    });
    const { body } = await twirp(s, a.token, "GetSignedArtifactURL", { ...ids(a), name: "signed" });
    const url = new URL(String(body.signed_url));
    assert.equal((await fetch(url)).status, 200);
    const tamper = (key: string, value: string): URL => {
      const u = new URL(url);
      u.searchParams.set(key, value);
      return u;
    };
    const sig = url.searchParams.get("sig")!;
    for (const bad of [
      tamper("sig", (sig[0] === "A" ? "B" : "A") + sig.slice(1)),
      tamper("exp", String(Number(url.searchParams.get("exp")) + 3600)),
      tamper("op", "upload"),
      tamper("att", "2"),
      tamper("nd", "999999"),
    ]) {
      const r = await fetch(bad);
      assert.equal(r.status, 401, bad.search);
      assert.equal(r.headers.get("x-ms-error-code"), "UNAUTHORIZED");
    }
    // A download URL does not upload.
    const put = await fetch(`${url.href}&comp=block&blockid=QUFBQQ%3D%3D`, {
      method: "PUT",
      body: "x",
      headers: { "content-type": "application/octet-stream" },
    });
    assert.equal(put.status, 401);
    // And it dies with its attempt.
    await s.db.pool.query(`UPDATE jobs SET state = 'completed' WHERE id = $1`, [a.jobId]);
    assert.equal((await fetch(url)).status, 401);
  });

  it("refuses a finalize whose size or digest is not what the server received, and keeps the upload", async () => {
    const a = await runningAttempt(s);
    const bytes = Buffer.from("the real bytes");
    await rawUpload(s, a, "checked", bytes);
    const wrongHash = await twirp(s, a.token, "FinalizeArtifact", {
      ...ids(a),
      name: "checked",
      size: String(bytes.length),
      hash: `sha256:${sha256(Buffer.from("other bytes"))}`,
    });
    assert.equal(wrongHash.status, 400);
    assert.deepEqual(wrongHash.body.meta, { airlock_code: "ARTIFACT_DIGEST_MISMATCH" });
    const wrongSize = await twirp(s, a.token, "FinalizeArtifact", { ...ids(a), name: "checked", size: "3" });
    assert.deepEqual(wrongSize.body.meta, { airlock_code: "ARTIFACT_DIGEST_MISMATCH" });
    const { rows } = await s.db.pool.query(
      `SELECT state FROM artifacts WHERE run_id = $1 AND name = 'checked'`,
      [a.runId],
    );
    assert.equal(rows[0].state, "uploading");
    const ok = await twirp(s, a.token, "FinalizeArtifact", {
      ...ids(a),
      name: "checked",
      size: String(bytes.length),
      hash: `sha256:${sha256(bytes)}`,
    });
    assert.equal(ok.status, 200);
  });

  it("deletes an artifact and its blob once no other artifact shares the bytes", async () => {
    const a = await runningAttempt(s);
    const bytes = Buffer.from("shared bytes");
    const right = { size: String(bytes.length), hash: `sha256:${sha256(bytes)}` };
    await rawUpload(s, a, "one", bytes);
    await rawUpload(s, a, "two", bytes);
    for (const name of ["one", "two"])
      await twirp(s, a.token, "FinalizeArtifact", { ...ids(a), name, ...right });
    assert.equal((await twirp(s, a.token, "DeleteArtifact", { ...ids(a), name: "one" })).status, 200);
    assert.equal(await s.store.has(sha256(bytes)), true);
    assert.equal((await twirp(s, a.token, "DeleteArtifact", { ...ids(a), name: "two" })).status, 200);
    assert.equal(await s.store.has(sha256(bytes)), false);
    assert.equal((await twirp(s, a.token, "DeleteArtifact", { ...ids(a), name: "two" })).status, 404);
  });

  it("answers a retried block list commit as the first, and lets a job's retry replace its lost attempt's upload", async () => {
    const a = await runningAttempt(s);
    const bytes = Buffer.from("first attempt");
    const { uploadUrl, artifactId } = await rawUpload(s, a, "retried", bytes);
    const block = Buffer.from("block-0000").toString("base64");
    const again = await fetch(`${uploadUrl}&comp=blocklist`, {
      method: "PUT",
      body: `<?xml version="1.0" encoding="utf-8"?><BlockList><Latest>${block}</Latest></BlockList>`,
    });
    assert.equal(again.status, 201);

    // The node is lost; the job's next delivery attempt uploads the same name afresh.
    await s.db.pool.query(`UPDATE jobs SET attempt = 2 WHERE id = $1`, [a.jobId]);
    const next = { ...a, attempt: 2, token: await s.svc.mintRuntimeToken(a.jobId, 2) };
    const fresh = Buffer.from("second attempt");
    const redo = await rawUpload(s, next, "retried", fresh);
    assert.notEqual(redo.artifactId, artifactId);
    assert.equal(await s.store.has(sha256(bytes)), false);
    const fin = await twirp(s, next.token, "FinalizeArtifact", {
      ...ids(next),
      name: "retried",
      size: String(fresh.length),
      hash: `sha256:${sha256(fresh)}`,
    });
    assert.equal(fin.status, 200);
  });
});
