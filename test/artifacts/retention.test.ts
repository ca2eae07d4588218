// Retention (src/artifacts/retention.ts): one sweep, called with a clock (never by waiting),
// deletes the artifacts past their expires_at and the uploads never finalized for longer than the
// stale-upload age with their staged parts; a blob goes only when no remaining row names it.
// Real PostgreSQL, a real server, the local blob store.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  finalize,
  ids,
  rawUpload,
  runningAttempt,
  startArtifactServer,
  twirp,
  type ArtifactServer,
} from "./helpers.js";

let s: ArtifactServer;
before(async () => {
  s = await startArtifactServer({ staleUploadHours: 24 });
});
after(async () => {
  await s?.close();
});

const HOUR = 3_600_000;
const row = async (id: number): Promise<Record<string, unknown> | undefined> =>
  (await s.db.pool.query(`SELECT * FROM artifacts WHERE id = $1`, [id])).rows[0] as
    Record<string, unknown> | undefined;

/** A finalized artifact; its blob's digest. */
async function uploaded(runId: number | undefined, name: string, bytes: Buffer) {
  const a = await runningAttempt(s, runId === undefined ? {} : { runId });
  const { artifactId } = await rawUpload(s, a, name, bytes);
  const f = await finalize(s, a, name, bytes);
  assert.equal(f.status, 200, JSON.stringify(f.body));
  return { a, id: artifactId, sha256: String((await row(artifactId))!.sha256) };
}

describe("the retention sweep", () => {
  it("removes expired artifacts and their blobs, keeps a blob another artifact still names", async () => {
    const now = new Date();
    const shared = Buffer.from("the same bytes in two artifacts\n");
    const old = await uploaded(undefined, "old", shared);
    const keep = await uploaded(undefined, "keep", shared);
    const lone = await uploaded(old.a.runId, "lone", Buffer.from("only one artifact has these\n"));
    assert.equal(old.sha256, keep.sha256);
    await s.db.pool.query(`UPDATE artifacts SET expires_at = $2 WHERE id = ANY($1::bigint[])`, [
      [old.id, lone.id],
      new Date(now.getTime() - HOUR),
    ]);
    const r = await s.svc.sweep(now);
    assert.deepEqual(r, { expired: 2, staleUploads: 0, blobsDeleted: 1 });
    assert.equal(await row(old.id), undefined);
    assert.equal(await row(lone.id), undefined);
    assert.notEqual(await row(keep.id), undefined);
    assert.equal(await s.store.has(keep.sha256), true, "a blob another row names stays");
    assert.equal(await s.store.has(lone.sha256), false, "an unreferenced blob goes");
    // Idempotent: the same sweep again finds nothing.
    assert.deepEqual(await s.svc.sweep(now), { expired: 0, staleUploads: 0, blobsDeleted: 0 });
  });

  it("removes uploads never finalized past the stale age, with their staged parts; fresher ones stay", async () => {
    const now = new Date();
    const a = await runningAttempt(s);
    // One upload with a staged block and no block list (parts only), one committed not finalized.
    const made = await twirp(s, a.token, "CreateArtifact", { ...ids(a), name: "abandoned", version: 7 });
    const url = String(made.body.signed_upload_url);
    const staged = Number(new URL(url).pathname.split("/").pop());
    const put = await fetch(
      `${url}&comp=block&blockid=${encodeURIComponent(Buffer.from("b0").toString("base64"))}`,
      {
        method: "PUT",
        body: Buffer.from("staged bytes"),
      },
    );
    assert.equal(put.status, 201);
    const parts = join(s.dir, "blobs", "uploads", `artifact-${staged}`);
    assert.equal(existsSync(parts), true);
    const committed = await rawUpload(s, a, "committed-only", Buffer.from("committed, never finalized\n"));
    const sha = String((await row(committed.artifactId))!.sha256);
    const fresh = await rawUpload(s, a, "fresh", Buffer.from("still being uploaded\n"));
    await s.db.pool.query(`UPDATE artifacts SET created_at = $2 WHERE id = ANY($1::bigint[])`, [
      [staged, committed.artifactId],
      new Date(now.getTime() - 25 * HOUR),
    ]);

    const r = await s.svc.sweep(now);
    assert.deepEqual(r, { expired: 0, staleUploads: 2, blobsDeleted: 1 });
    assert.equal(await row(staged), undefined);
    assert.equal(await row(committed.artifactId), undefined);
    assert.equal(existsSync(parts), false, "staged parts removed");
    assert.equal(await s.store.has(sha), false);
    assert.equal(
      (await s.db.pool.query(`SELECT 1 FROM artifact_upload_blocks WHERE artifact_id = $1`, [staged]))
        .rowCount,
      0,
    );
    assert.equal((await row(fresh.artifactId))!.state, "uploading", "a fresh upload is left alone");
  });
});
