// What a rebuild (a replica job, independent rebuilds) may do through the artifact service, and
// what the job it checks may no longer do: a rebuild sees the run's artifacts as the checked job
// saw them when it started (not the checked job's own output, nor later uploads), uploads only
// the names the checked job uploaded, and its uploads are never listed to other jobs; the checked
// job cannot delete what is being compared; an artifact whose rebuilds are not judged yet is not
// promotable. Real PostgreSQL and a real server (test/artifacts/helpers.ts).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  ids,
  rawUpload,
  listedNames,
  runningAttempt,
  startArtifactServer,
  uploadFinalized,
  twirp,
  type ArtifactServer,
  type Attempt,
  adminToken,
} from "./helpers.js";

let s: ArtifactServer;
let admin: string;
before(async () => {
  s = await startArtifactServer();
  admin = await adminToken(s);
});
after(async () => {
  await s?.close();
});

const upload = (a: Attempt, name: string, text: string): Promise<number> =>
  uploadFinalized(s, a, name, Buffer.from(text));

const listed = (a: Attempt): Promise<string[]> => listedNames(s, a);

describe("rebuilds and the artifact service", () => {
  it("a rebuild sees what its job saw, uploads only its job's names, and is seen by no one", async () => {
    const deps = await runningAttempt(s);
    await upload(deps, "deps", "dependencies\n");
    const job = await runningAttempt(s, { runId: deps.runId });
    await upload(job, "app", "the build\n");
    const later = await runningAttempt(s, { runId: deps.runId });
    await upload(later, "late", "after the job started\n");
    // `deps` was there before the checked job started; `late` came after.
    await s.db.pool.query(
      `UPDATE artifacts SET finalized_at = now() - interval '1 hour' WHERE name = 'deps' AND run_id = $1`,
      [deps.runId],
    );
    await s.db.pool.query(`UPDATE jobs SET started_at = now() - interval '30 minutes' WHERE id = $1`, [
      job.jobId,
    ]);

    const rebuild = await runningAttempt(s, { runId: deps.runId });
    await s.db.pool.query(`UPDATE jobs SET replica_of = $2 WHERE id = $1`, [rebuild.jobId, job.jobId]);
    assert.deepEqual(await listed(rebuild), ["deps"]);
    const checked = await twirp(s, rebuild.token, "GetSignedArtifactURL", { ...ids(rebuild), name: "app" });
    assert.equal(checked.status, 404, JSON.stringify(checked.body));

    const junk = await twirp(s, rebuild.token, "CreateArtifact", {
      ...ids(rebuild),
      name: "junk",
      version: 7,
    });
    assert.equal(junk.status, 409, JSON.stringify(junk.body));
    assert.match(String(junk.body.msg), /a rebuild uploads only the artifacts its job uploaded/);

    // Far larger than its job's: refused, nothing kept (a little larger is compared: a mismatch).
    const big = Buffer.alloc(1024 * 1024 + 100, 1);
    await assert.rejects(rawUpload(s, rebuild, "app", big), /Put Block List: 413/);
    const kept = await s.db.pool.query(`SELECT 1 FROM artifacts WHERE job_id = $1`, [rebuild.jobId]);
    assert.equal(kept.rowCount, 0);
    const rebuilt = await upload(rebuild, "app", "the build, a little longer\n");
    const row = await s.db.pool.query(`SELECT replica_of FROM artifacts WHERE id = $1`, [rebuilt]);
    assert.equal(Number(row.rows[0]!.replica_of), job.jobId);
    // Other jobs still see the job's own "app", once.
    assert.deepEqual(await listed(later), ["app", "deps", "late"]);

    // Evidence stays: the checked job cannot delete what its rebuild is compared with.
    const del = await twirp(s, job.token, "DeleteArtifact", { ...ids(job), name: "app" });
    assert.equal(del.status, 409, JSON.stringify(del.body));
    assert.match(String(del.body.msg), /checked by independent rebuilds/);
  });

  it("an artifact whose rebuilds are not judged yet is not promotable", async () => {
    const job = await runningAttempt(s);
    const id = await upload(job, "dist", "release\n");
    await s.db.pool.query(`UPDATE artifacts SET status = 'trusted', awaiting_rebuilds = true WHERE id = $1`, [
      id,
    ]);
    const promote = async () =>
      s.app.inject({
        method: "POST",
        url: `/api/v1/runs/${job.runId}/artifacts/${id}/promote`,
        headers: { authorization: `Bearer ${admin}` },
      });
    const refused = await promote();
    assert.equal(refused.statusCode, 409, refused.body);
    assert.match(refused.body, /waits for the verdict of its independent rebuilds/);
    await s.db.pool.query(`UPDATE artifacts SET awaiting_rebuilds = false WHERE id = $1`, [id]);
    assert.equal((await promote()).statusCode, 200);
  });
});
