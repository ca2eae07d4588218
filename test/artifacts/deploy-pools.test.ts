// A job the orchestrator placed on a node of a deploy pool (migration 040) consumes artifacts as a
// deployment does: ListArtifacts shows only what the repository's promotion gate would promote,
// and a download URL for anything else is refused (ARTIFACT_NOT_PROMOTABLE), even one signed before
// the node's pool became a deploy pool. The gate follows the node's pool as it is now; a job on an
// ordinary node sees every artifact of its run. Like a job with an environment, such a job is not
// rebuilt (it would deploy again) and its artifacts do not wait for rebuilds. Real PostgreSQL and a
// real server (helpers.ts).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { DEFAULT_POLICY, markAwaitingRebuilds, queueReplicas } from "../../src/artifacts/index.js";
import { createPool, setPoolDeploy } from "../../src/orchestrator/pools/index.js";
import {
  ids,
  listedNames,
  runningAttempt,
  startArtifactServer,
  uploadFinalized,
  twirp,
  type ArtifactServer,
  type Attempt,
} from "./helpers.js";

let s: ArtifactServer;
before(async () => {
  s = await startArtifactServer();
  await createPool(s.db.pool, { name: "deploy", trust: "high", open: true, deploy: true });
});
after(async () => {
  await s?.close();
});

const upload = (a: Attempt, name: string): Promise<number> =>
  uploadFinalized(s, a, name, Buffer.from(`${name} bytes\n`));

const listed = (a: Attempt): Promise<string[]> => listedNames(s, a);

const signedUrl = (a: Attempt, name: string) =>
  twirp(s, a.token, "GetSignedArtifactURL", { ...ids(a), name });

/** Moves the attempt's node into the pool (what `airlock nodes set-pool` does). */
async function moveNode(a: Attempt, pool: string): Promise<void> {
  await s.db.pool.query(
    `UPDATE nodes SET pool_id = (SELECT id FROM pools WHERE name = $2)
      WHERE id = (SELECT node_id FROM jobs WHERE id = $1)`,
    [a.jobId, pool],
  );
}

describe("deploy pools and the artifact service", () => {
  it("a job on a deploy pool's node consumes only what the gate allows; on an ordinary node, everything", async () => {
    const build = await runningAttempt(s);
    await upload(build, "app"); // unverified: the default policy promotes corroborated or trusted only
    const lib = await upload(build, "lib");
    await s.db.pool.query(`UPDATE artifacts SET status = 'trusted' WHERE id = $1`, [lib]);

    const deployer = await runningAttempt(s, { runId: build.runId });
    const ordinary = await runningAttempt(s, { runId: build.runId });
    // Signed while the deployer's node was still ordinary.
    const early = await signedUrl(deployer, "app");
    assert.equal(early.status, 200, JSON.stringify(early.body));

    await moveNode(deployer, "deploy");
    assert.deepEqual(await listed(deployer), ["lib"]);
    assert.deepEqual(await listed(ordinary), ["app", "lib"]);
    // Asked for by name (the toolkit's getArtifact before a download): told why, not "not found".
    const byName = await twirp(s, deployer.token, "ListArtifacts", { ...ids(deployer), name_filter: "app" });
    assert.equal(byName.status, 409, JSON.stringify(byName.body));
    assert.match(String(byName.body.msg), /^deployment in pool deploy refused: artifact "app" is unverified/);
    const allowed = await twirp(s, deployer.token, "ListArtifacts", { ...ids(deployer), name_filter: "lib" });
    assert.equal(allowed.status, 200, JSON.stringify(allowed.body));
    const refused = await signedUrl(deployer, "app");
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.equal((refused.body.meta as Record<string, string>).airlock_code, "ARTIFACT_NOT_PROMOTABLE");
    assert.match(
      String(refused.body.msg),
      /^deployment in pool deploy refused: artifact "app" is unverified; the repository's policy promotes only corroborated or trusted$/,
    );
    assert.equal((await signedUrl(deployer, "lib")).status, 200);
    assert.equal((await signedUrl(ordinary, "app")).status, 200);
    // The URL signed before the node joined the deploy pool no longer gives the bytes.
    const stale = await fetch(String(early.body.signed_url));
    assert.equal(stale.status, 409, await stale.text());

    // An artifact whose rebuilds are not judged yet is not consumed either.
    await s.db.pool.query(`UPDATE artifacts SET awaiting_rebuilds = true WHERE id = $1`, [lib]);
    assert.deepEqual(await listed(deployer), []);
    assert.deepEqual(await listed(ordinary), ["app", "lib"]);
    await s.db.pool.query(`UPDATE artifacts SET awaiting_rebuilds = false WHERE id = $1`, [lib]);

    // The gate follows the pool as it is now: an ordinary pool again, the job sees everything.
    await setPoolDeploy(s.db.pool, "deploy", false);
    assert.deepEqual(await listed(deployer), ["app", "lib"]);
    assert.equal((await signedUrl(deployer, "app")).status, 200);
    await setPoolDeploy(s.db.pool, "deploy", true);
    assert.deepEqual(await listed(deployer), ["lib"]);
  });

  it("the pool comes from the job's node, not from anything the job says", async () => {
    const build = await runningAttempt(s);
    await upload(build, "app");
    const deployer = await runningAttempt(s, { runId: build.runId });
    await moveNode(deployer, "deploy");
    // A job may name anything it likes in its requests; only its node's pool decides.
    const r = await twirp(s, deployer.token, "ListArtifacts", { ...ids(deployer), pool: "default" });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.artifacts ?? [], []);
    // Moved back to an ordinary pool by an administrator, the same attempt sees the artifact.
    await moveNode(deployer, "default");
    assert.deepEqual(await listed(deployer), ["app"]);
  });

  it("a job on a deploy pool's node is not rebuilt, and its artifacts do not wait for rebuilds", async () => {
    const build = await runningAttempt(s);
    const deployer = await runningAttempt(s, { runId: build.runId });
    await moveNode(deployer, "deploy");
    // As assignJobs records it (test/artifacts/builder-snapshot.test.ts): what the job was placed as
    // decides, not the pool's flag later.
    await s.db.pool.query(`UPDATE jobs SET assigned_deploy_pool = 'deploy' WHERE id = $1`, [deployer.jobId]);
    const { rows } = await s.db.pool.query<{ repository_id: string }>(
      `SELECT repository_id FROM runs WHERE id = $1`,
      [build.runId],
    );
    await s.svc.setPolicy(Number(rows[0]!.repository_id), {
      ...DEFAULT_POLICY,
      corroborate: { ...DEFAULT_POLICY.corroborate, builds: 2, agree: 2 },
    });
    const built = await upload(build, "app");
    const shipped = await upload(deployer, "receipt");
    assert.equal(await markAwaitingRebuilds(s.db.pool, built), true);
    assert.equal(await markAwaitingRebuilds(s.db.pool, shipped), false);
    await s.db.pool.query(
      `UPDATE jobs SET state = 'completed', conclusion = 'success', finished_at = now() WHERE id = ANY($1)`,
      [[build.jobId, deployer.jobId]],
    );
    assert.equal((await queueReplicas(s.db.pool, build.jobId)).length, 1);
    assert.deepEqual(await queueReplicas(s.db.pool, deployer.jobId), []);
  });
});
