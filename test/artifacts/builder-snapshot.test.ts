// A build is weighed as its node was when the job was assigned (migration 039), not as an
// administrator set the node since: a node made trusted after it built as an untrusted one does
// not make the build a trusted worker's (verdict, trusted rebuild); an operator renamed after the
// build neither frees that operator's nodes for the replica nor makes two of its builds look
// independent; the provenance names the recorded trust and operator; a job back in the queue
// loses its record, and a job assigned before the migration (no record) uses the node as it is.
// Real PostgreSQL, the real queue operations, the administrator's own setNodeWorker.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  attestArtifact,
  buildsOf,
  corroborate,
  LocalBlobStore,
  queueReplicas,
  type CorroborationDeps,
} from "../../src/artifacts/index.js";
import type { Envelope } from "../../src/artifacts/provenance/index.js";
import { NODE_PREFIX } from "../../src/artifacts/provenance/statement.js";
import { createNode, setNodeWorker } from "../../src/orchestrator/catalog/index.js";
import { startAttempt } from "../../src/orchestrator/rerun.js";
import { acceptJob, claimQueuedJobs, completeJob, enqueueJobs, rejectJob } from "../../src/queue/index.js";
import type { Kms } from "../../src/secrets/index.js";
import type { Workflow } from "../../src/workflow/index.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { addFlavour, addImage, assignQueued, newJob, result } from "../queue/fixtures.js";
import {
  localKms,
  seedOrganization,
  seedRepository,
  seedRun,
  tempDir,
  type TempDir,
} from "../secrets/helpers.js";

const A = "a".repeat(64);

let db: TestDatabase;
let tmp: TempDir;
let kms: Kms;
let d: CorroborationDeps;
let seq = 0;

before(async () => {
  db = await createTestDatabase();
  tmp = await tempDir("airlock-builder-snapshot-");
  kms = await localKms(tmp.dir);
  d = {
    db: db.pool,
    kms,
    store: new LocalBlobStore(join(tmp.dir, "blobs")),
    publicUrl: "https://ci.example.test",
  };
});
after(async () => {
  await kms?.close();
  await db?.drop();
  await tmp?.remove();
});

interface Scene {
  repositoryId: number;
  runId: number;
  imageId: number;
  flavourId: number;
}

/** A repository whose policy asks for `builds` builds (and/or a trusted one), and a run of it. */
async function scene(policy: { builds: number; trustedBuild?: boolean }): Promise<Scene> {
  seq++;
  const org = await seedOrganization(db.pool, `snap-${seq}`);
  const repositoryId = await seedRepository(db.pool, org, `acme/snap-${seq}`);
  await db.pool.query(
    `INSERT INTO repository_artifact_policies (repository_id, corroborate_builds, corroborate_agree, corroborate_trusted_build)
     VALUES ($1, $2, 1, $3)`,
    [repositoryId, policy.builds, policy.trustedBuild ?? false],
  );
  return {
    repositoryId,
    runId: await seedRun(db.pool, repositoryId),
    imageId: await addImage(db.pool),
    flavourId: await addFlavour(db.pool),
  };
}

const node = async (workerTrust: "trusted" | "untrusted", operator: string | null): Promise<number> =>
  (await createNode(db.pool, { name: `snap-node-${++seq}`, workerTrust, operator })).id;

/** Assigns queued job `jobId` to `nodeId` (assignJobs), runs it, uploads "app" and succeeds. */
async function build(
  s: Scene,
  jobId: number,
  nodeId: number,
  replicaOf: number | null = null,
): Promise<number> {
  const { attempt } = await assignQueued(db.pool, { ...s, nodeId }, jobId);
  assert.ok(await acceptJob(db.pool, jobId, attempt, 60_000));
  const { rows } = await db.pool.query<{ id: string }>(
    `INSERT INTO artifacts (repository_id, run_id, run_attempt, job_id, job_attempt, name, node_id, trust_tier,
                            state, size, sha256, committed_at, finalized_at, expires_at, replica_of)
     VALUES ($1, $2, 1, $3, $4, 'app', $5, 'trusted', 'finalized', 10, $6, now(), now(), now() + interval '1 day', $7)
     RETURNING id`,
    [s.repositoryId, s.runId, jobId, attempt, nodeId, A, replicaOf],
  );
  assert.ok(await completeJob(db.pool, jobId, attempt, result("success")));
  return Number(rows[0]!.id);
}

async function ownJob(s: Scene, key = `build-${++seq}`): Promise<number> {
  const [job] = await enqueueJobs(db.pool, [newJob(s.runId, key)]);
  return job!.id;
}

/** The builder nodes a stored provenance names: operator and trust of each. */
async function provenanceBuilders(artifactId: number): Promise<Array<{ operator: unknown; trust: unknown }>> {
  const { rows } = await db.pool.query<{ envelope: Envelope }>(
    `SELECT envelope FROM artifact_provenance WHERE artifact_id = $1`,
    [artifactId],
  );
  const statement = JSON.parse(Buffer.from(rows[0]!.envelope.payload, "base64").toString()) as {
    predicate: { runDetails: { byproducts: Array<{ name: string; annotations?: Record<string, unknown> }> } };
  };
  return statement.predicate.runDetails.byproducts
    .filter((b) => b.name.startsWith(NODE_PREFIX))
    .map((b) => ({ operator: b.annotations?.operator, trust: b.annotations?.trust }));
}

describe("builds are weighed as their node was at assignment", () => {
  it("a node made trusted after it built as an untrusted one: the verdict is not `trusted`", async () => {
    const s = await scene({ builds: 2 });
    const u = await node("untrusted", "alice");
    const v = await node("untrusted", "bob");
    const jobId = await ownJob(s);
    const artifact = await build(s, jobId, u);
    const [replica] = await queueReplicas(db.pool, jobId);
    assert.ok(replica !== undefined);
    await build(s, replica, v, jobId);
    await setNodeWorker(db.pool, u, { workerTrust: "trusted" });

    const out = await corroborate(d, jobId);
    // Two operators agreed: corroborated; the untrusted build does not become a trusted worker's.
    assert.equal(out.statuses.get(artifact), "corroborated");
    assert.deepEqual(await provenanceBuilders(artifact), [
      { operator: "alice", trust: "untrusted" },
      { operator: "bob", trust: "untrusted" },
    ]);
  });

  it("a node made trusted right after its build still gets the policy's trusted rebuild", async () => {
    const s = await scene({ builds: 1, trustedBuild: true });
    const u = await node("untrusted", "carol");
    const jobId = await ownJob(s);
    await build(s, jobId, u);
    await setNodeWorker(db.pool, u, { workerTrust: "trusted" });
    const replicas = await queueReplicas(db.pool, jobId);
    assert.equal(replicas.length, 1);
    const { rows } = await db.pool.query<{ replica_trusted_worker: boolean }>(
      `SELECT replica_trusted_worker FROM jobs WHERE id = $1`,
      [replicas[0]],
    );
    assert.equal(rows[0]!.replica_trusted_worker, true);
  });

  it("an operator renamed after the build: its nodes stay excluded and its two builds are not corroborated", async () => {
    const s = await scene({ builds: 2 });
    const p = await node("untrusted", "Dana");
    const q = await node("untrusted", "dana");
    const jobId = await ownJob(s);
    const artifact = await build(s, jobId, p);
    const [replica] = await queueReplicas(db.pool, jobId);
    assert.ok(replica !== undefined);
    await setNodeWorker(db.pool, p, { workerTrust: "untrusted", operator: "Erin" });

    // The scheduler is told to avoid the operator who built the job, and the node's new name too
    // (the node itself must not rebuild its own build under its new name).
    const client = await db.pool.connect();
    try {
      await client.query("BEGIN");
      const claimed = await claimQueuedJobs(client, 1000);
      await client.query("ROLLBACK");
      assert.deepEqual(claimed.find((c) => c.id === replica)?.replica?.excludeOperators?.toSorted(), [
        "dana",
        "erin",
      ]);
    } finally {
      client.release();
    }

    // Placed on the other node of the same party all the same (as a placement that read the new
    // name would have): the same operator twice is no independent witness.
    await build(s, replica, q, jobId);
    const out = await corroborate(d, jobId);
    assert.equal(out.statuses.get(artifact), "unverified");
    assert.deepEqual(
      (await buildsOf(db.pool, jobId)).map((b) => b.operatorKey),
      ["dana", "dana"],
    );
    assert.deepEqual(await provenanceBuilders(artifact), [
      { operator: "Dana", trust: "untrusted" },
      { operator: "dana", trust: "untrusted" },
    ]);
  });

  it("one machine is one witness: a node renamed between its two builds does not corroborate itself", async () => {
    const s = await scene({ builds: 2 });
    const p = await node("untrusted", "Dana");
    const jobId = await ownJob(s);
    const artifact = await build(s, jobId, p);
    const [replica] = await queueReplicas(db.pool, jobId);
    assert.ok(replica !== undefined);
    await setNodeWorker(db.pool, p, { workerTrust: "untrusted", operator: "Erin" });
    // Placed on the renamed node all the same (as a placement that read stale names would have).
    await build(s, replica, p, jobId);
    assert.deepEqual(
      (await buildsOf(db.pool, jobId)).map((b) => b.operatorKey),
      ["dana", "erin"],
    );
    const out = await corroborate(d, jobId);
    assert.equal(out.statuses.get(artifact), "unverified");
  });

  it("a single build's provenance names the trust and operator recorded at assignment", async () => {
    const s = await scene({ builds: 1 });
    const u = await node("untrusted", "frank");
    const jobId = await ownJob(s);
    const artifact = await build(s, jobId, u);
    await setNodeWorker(db.pool, u, { workerTrust: "trusted", operator: "grace" });
    const a = await attestArtifact(db.pool, kms, d.publicUrl, artifact);
    assert.equal(a.status, "unverified");
    assert.deepEqual(await provenanceBuilders(artifact), [{ operator: "frank", trust: "untrusted" }]);
  });
});

describe("the record of an assignment", () => {
  it("is set by assignJobs, cleared when the job goes back to the queue", async () => {
    const s = await scene({ builds: 1 });
    const u = await node("untrusted", "  Heidi   Lab ");
    const jobId = await ownJob(s);
    const { attempt } = await assignQueued(db.pool, { ...s, nodeId: u }, jobId);
    const row = async () =>
      (
        await db.pool.query<Record<string, string | null>>(
          `SELECT assigned_worker_trust, assigned_operator, assigned_operator_key FROM jobs WHERE id = $1`,
          [jobId],
        )
      ).rows[0];
    assert.deepEqual(await row(), {
      assigned_worker_trust: "untrusted",
      assigned_operator: "  Heidi   Lab ",
      assigned_operator_key: "heidi lab",
    });
    assert.ok(await rejectJob(db.pool, jobId, attempt, "no room"));
    assert.deepEqual(await row(), {
      assigned_worker_trust: null,
      assigned_operator: null,
      assigned_operator_key: null,
    });
  });

  it("records a deploy pool's name at assignment (migration 040), NULL for an ordinary pool, cleared on reject", async () => {
    const s = await scene({ builds: 1 });
    const u = await node("trusted", "kim");
    await db.pool.query(`INSERT INTO pools (name, trust, deploy) VALUES ('snap-deploy', 'high', true)`);
    await db.pool.query(
      `UPDATE nodes SET pool_id = (SELECT id FROM pools WHERE name = 'snap-deploy') WHERE id = $1`,
      [u],
    );
    const jobId = await ownJob(s);
    const deployPool = async () =>
      (
        await db.pool.query<{ p: string | null }>(`SELECT assigned_deploy_pool p FROM jobs WHERE id = $1`, [
          jobId,
        ])
      ).rows[0]!.p;
    const { attempt } = await assignQueued(db.pool, { ...s, nodeId: u }, jobId);
    assert.equal(await deployPool(), "snap-deploy");
    assert.ok(await rejectJob(db.pool, jobId, attempt, "no room"));
    assert.equal(await deployPool(), null);
    await db.pool.query(`UPDATE pools SET deploy = false WHERE name = 'snap-deploy'`);
    await assignQueued(db.pool, { ...s, nodeId: u }, jobId);
    assert.equal(await deployPool(), null);
  });

  it("an operator name of spaces only (set before the API refused it) is no name", async () => {
    const s = await scene({ builds: 1 });
    const u = await node("untrusted", null);
    await db.pool.query(`UPDATE nodes SET operator = '   ' WHERE id = $1`, [u]);
    const jobId = await ownJob(s);
    await build(s, jobId, u);
    assert.deepEqual(
      (await buildsOf(db.pool, jobId)).map((b) => b.operatorKey),
      [`node:${u}`],
    );
  });

  it("a job assigned before migration 039 (no record) is weighed by its node as it is now", async () => {
    const s = await scene({ builds: 1 });
    const u = await node("untrusted", null);
    const jobId = await ownJob(s);
    await build(s, jobId, u);
    await db.pool.query(
      `UPDATE jobs SET assigned_worker_trust = NULL, assigned_operator = NULL, assigned_operator_key = NULL
        WHERE id = $1`,
      [jobId],
    );
    assert.deepEqual(
      (await buildsOf(db.pool, jobId)).map((b) => [b.trusted, b.operatorKey]),
      [[false, `node:${u}`]],
    );
    await setNodeWorker(db.pool, u, { workerTrust: "trusted", operator: "ivan" });
    assert.deepEqual(
      (await buildsOf(db.pool, jobId)).map((b) => [b.trusted, b.operatorKey]),
      [[true, "ivan"]],
    );
  });

  it("goes with a job a re-run keeps", async () => {
    const s = await scene({ builds: 1 });
    const u = await node("untrusted", "judy");
    const F = ".github/workflows/ci.yml";
    const kept = await ownJob(s, `${F}#build#0`);
    await build(s, kept, u);
    const flaky = await ownJob(s, `${F}#flaky#0`);
    const { attempt } = await assignQueued(db.pool, { ...s, nodeId: u }, flaky);
    assert.ok(await completeJob(db.pool, flaky, attempt, result("failure")));
    await db.pool.query(`UPDATE runs SET state = 'completed', conclusion = 'failure' WHERE id = $1`, [
      s.runId,
    ]);
    await setNodeWorker(db.pool, u, { workerTrust: "trusted", operator: "mallory" });

    const workflow = {
      file: F,
      name: "ci",
      jobs: [
        { id: "build", needs: [] },
        { id: "flaky", needs: [] },
      ],
    };
    const client = await db.pool.connect();
    try {
      await client.query("BEGIN");
      await startAttempt(
        client,
        s.runId,
        workflow as unknown as Workflow,
        {
          mode: "failed",
          actor: "someone",
          byUserId: null,
        },
        { approval: null, reason: null },
      );
      await client.query("COMMIT");
    } finally {
      client.release();
    }
    const { rows } = await db.pool.query<Record<string, string | null>>(
      `SELECT assigned_worker_trust, assigned_operator, assigned_operator_key FROM jobs
        WHERE run_id = $1 AND run_attempt = 2 AND reused_from = $2`,
      [s.runId, kept],
    );
    assert.deepEqual(rows, [
      { assigned_worker_trust: "untrusted", assigned_operator: "judy", assigned_operator_key: "judy" },
    ]);
  });
});
