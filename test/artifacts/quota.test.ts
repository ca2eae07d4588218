// The per-repository artifact quota (src/artifacts/quota.ts): an upload that would pass it is
// refused with ARTIFACT_QUOTA_EXCEEDED (413) at the block list commit or at finalize, and one
// into a repository already at its quota at CreateArtifact; a refused upload leaves nothing (no
// row, no staged parts, no blob) and what was stored before is untouched. Real PostgreSQL, a real
// server, the local blob store.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
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
  // The server's default quota: 100 bytes per repository.
  s = await startArtifactServer({ quotaBytes: 100 });
});
after(async () => {
  await s?.close();
});

const bytes = (n: number, fill: string): Buffer => Buffer.alloc(n, fill);
const sha = (b: Buffer): string => createHash("sha256").update(b).digest("hex");
const repoOf = async (runId: number): Promise<number> =>
  Number(
    (await s.db.pool.query(`SELECT repository_id FROM runs WHERE id = $1`, [runId])).rows[0]!.repository_id,
  );
const rowsOf = async (runId: number) =>
  (await s.db.pool.query(`SELECT name, state, size FROM artifacts WHERE run_id = $1 ORDER BY id`, [runId]))
    .rows;
const noUploads = (): boolean => {
  const dir = join(s.dir, "blobs", "uploads");
  return !existsSync(dir) || readdirSync(dir).length === 0;
};

describe("the artifact quota of a repository", () => {
  it("refuses the block list that would pass it, and keeps nothing of that upload", async () => {
    const a = await runningAttempt(s);
    const first = bytes(60, "a");
    await rawUpload(s, a, "first", first);
    assert.equal((await finalize(s, a, "first", first)).status, 200);

    const second = bytes(50, "b");
    await assert.rejects(rawUpload(s, a, "second", second), /Put Block List: 413 .*ARTIFACT_QUOTA_EXCEEDED/);
    assert.deepEqual(await rowsOf(a.runId), [{ name: "first", state: "finalized", size: "60" }]);
    assert.equal(await s.store.has(sha(first)), true);
    assert.equal(await s.store.has(sha(second)), false);
    assert.equal(noUploads(), true, "no staged parts left");
    assert.equal((await s.svc.policy(await repoOf(a.runId))).usedBytes, 60);
  });

  it("refuses at finalize when uploads committed together would pass it, removing the loser whole", async () => {
    const a = await runningAttempt(s);
    const base = bytes(60, "c");
    await rawUpload(s, a, "base", base);
    assert.equal((await finalize(s, a, "base", base)).status, 200);
    // Both fit alone (60 + 30 <= 100), so both commit; only one of them can be finalized.
    const x = bytes(30, "x");
    const y = bytes(30, "y");
    await rawUpload(s, a, "x", x);
    await rawUpload(s, a, "y", y);
    assert.equal((await finalize(s, a, "x", x)).status, 200);
    const refused = await finalize(s, a, "y", y);
    assert.equal(refused.status, 413);
    assert.equal(refused.body.code, "resource_exhausted");
    assert.deepEqual(refused.body.meta, { airlock_code: "ARTIFACT_QUOTA_EXCEEDED" });
    assert.match(String(refused.body.msg), /quota of 100 bytes/);
    assert.doesNotMatch(String(refused.body.msg), /\n/);
    assert.deepEqual(
      (await rowsOf(a.runId)).map((r) => r.name),
      ["base", "x"],
    );
    assert.equal(await s.store.has(sha(y)), false);
    assert.equal(await s.store.has(sha(x)), true);
    assert.equal((await s.svc.policy(await repoOf(a.runId))).usedBytes, 90);
  });

  it("refuses CreateArtifact once the repository is at its own quota; other repositories are not affected", async () => {
    const a = await runningAttempt(s);
    const repo = await repoOf(a.runId);
    const full = bytes(40, "f");
    await rawUpload(s, a, "full", full);
    assert.equal((await finalize(s, a, "full", full)).status, 200);
    await s.svc.setPolicy(repo, {
      quotaBytes: 40,
      promote: { requireStatus: ["corroborated", "trusted"], allowUntrustedRuns: false },
      corroborate: { builds: 1, agree: 1, trustedBuild: false, workflows: null },
    });
    const before = await rowsOf(a.runId);
    const made = await twirp(s, a.token, "CreateArtifact", { ...ids(a), name: "more", version: 7 });
    assert.equal(made.status, 413);
    assert.deepEqual(made.body.meta, { airlock_code: "ARTIFACT_QUOTA_EXCEEDED" });
    assert.match(String(made.body.msg), /has reached its quota of 40 bytes/);
    assert.deepEqual(await rowsOf(a.runId), before);

    // Another repository has the server's default (100 bytes) and nothing stored yet.
    const other = await runningAttempt(s);
    const ok = await twirp(s, other.token, "CreateArtifact", { ...ids(other), name: "more", version: 7 });
    assert.equal(ok.status, 200);
  });
});
