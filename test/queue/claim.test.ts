// Claiming: oldest first, FOR UPDATE SKIP LOCKED — two dispatchers in two transactions never get
// the same job — and the plans use the partial indexes the schema made for them.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { claimQueuedJobs, enqueueJobs } from "../../src/queue/index.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { CLAIM } from "../../src/queue/claim.js";
import { GIVE_UP, REQUEUE } from "../../src/queue/expire.js";
import { addNode, addRepository, addRun, newJob } from "./fixtures.js";

void describe("claimQueuedJobs", () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(() => db.drop());

  void it("returns queued jobs oldest first with repository and organization", async () => {
    const repo = await addRepository(db.pool);
    const run = await addRun(db.pool, repo);
    const jobs = await enqueueJobs(db.pool, [newJob(run, "c1"), newJob(run, "c2", { labels: ["gpu"] })]);
    // Make c2 older than c1.
    await db.pool.query("UPDATE jobs SET queued_at = queued_at - interval '1 minute' WHERE id = $1", [
      jobs[1]!.id,
    ]);
    const client = await db.pool.connect();
    try {
      await client.query("BEGIN");
      const claimed = await claimQueuedJobs(client, 10);
      await client.query("COMMIT");
      assert.deepEqual(
        claimed.map((c) => c.id),
        [jobs[1]!.id, jobs[0]!.id],
      );
      const { rows } = await db.pool.query<{ organization_id: string }>(
        "SELECT organization_id FROM repositories WHERE id = $1",
        [repo],
      );
      assert.deepEqual(claimed[0], {
        id: jobs[1]!.id,
        runId: run,
        repositoryId: repo,
        organizationId: Number(rows[0]!.organization_id),
        labels: ["gpu"],
        attempt: 0,
        trust: "trusted",
        containers: false,
      });
    } finally {
      client.release();
    }
    await db.pool.query("UPDATE jobs SET state = 'completed', conclusion = 'success' WHERE run_id = $1", [
      run,
    ]);
  });

  void it("says which jobs have `container:`, `services:` or a `docker://` step (they need a container image)", async () => {
    const run = await addRun(db.pool);
    const base = newJob(run, "x").description as unknown as Record<string, unknown>;
    const jobs = await enqueueJobs(db.pool, [
      newJob(run, "k1", { description: { ...base, container: { image: "node:20" } } as never }),
      newJob(run, "k2", { description: { ...base, services: { db: { image: "postgres" } } } as never }),
      newJob(run, "k3", { description: { ...base, steps: [{ uses: "docker://alpine:3" }] } as never }),
      newJob(run, "k4", { description: { ...base, steps: [{ uses: "actions/checkout@v4" }] } as never }),
      newJob(run, "k5"),
    ]);
    const client = await db.pool.connect();
    try {
      await client.query("BEGIN");
      const claimed = await claimQueuedJobs(client, 10);
      await client.query("ROLLBACK");
      const byId = new Map(claimed.map((c) => [c.id, c.containers]));
      assert.deepEqual(
        jobs.map((j) => byId.get(j.id)),
        [true, true, true, false, false],
      );
    } finally {
      client.release();
    }
    await db.pool.query("UPDATE jobs SET state = 'completed', conclusion = 'success' WHERE run_id = $1", [
      run,
    ]);
  });

  void it("says whose run has rebuilds under way: every such job, and a deployment waits whole", async () => {
    const repo = await addRepository(db.pool);
    const pending = await addRun(db.pool, repo);
    const other = await addRun(db.pool, repo);
    const [build, test, deploy, elsewhere] = await enqueueJobs(db.pool, [
      newJob(pending, "build"),
      newJob(pending, "test"),
      newJob(pending, "deploy", { environment: "production" }),
      newJob(other, "test"),
    ]);
    // The environment's rules let the deployment go (gate cleared); `build` uploaded an artifact
    // whose rebuilds are not judged yet.
    await db.pool.query("UPDATE jobs SET gate = NULL WHERE id = $1", [deploy!.id]);
    await db.pool.query(
      `INSERT INTO artifacts (repository_id, run_id, run_attempt, job_id, job_attempt, name, trust_tier,
                              expires_at, awaiting_rebuilds)
       VALUES ($1, $2, 1, $3, 1, 'app', 'trusted', now() + interval '1 day', true)`,
      [repo, pending, build!.id],
    );
    const claim = async (): Promise<Map<number, [boolean, boolean]>> => {
      const client = await db.pool.connect();
      try {
        await client.query("BEGIN");
        const claimed = await claimQueuedJobs(client, 10);
        await client.query("ROLLBACK");
        return new Map(claimed.map((c) => [c.id, [!!c.runRebuildsPending, !!c.awaitingRebuilds]]));
      } finally {
        client.release();
      }
    };
    const ids = [build!.id, test!.id, deploy!.id, elsewhere!.id];
    let flags = await claim();
    assert.deepEqual(
      ids.map((id) => flags.get(id)),
      [
        [true, false],
        [true, false],
        [true, true],
        [false, false],
      ],
    );
    await db.pool.query("UPDATE artifacts SET awaiting_rebuilds = false WHERE run_id = $1", [pending]);
    flags = await claim();
    assert.ok(ids.every((id) => flags.get(id)?.join() === "false,false"));
    await db.pool.query(
      "UPDATE jobs SET state = 'completed', conclusion = 'success' WHERE run_id = ANY($1)",
      [[pending, other]],
    );
  });

  void it("claims the jobs queued behind a given job, in order", async () => {
    const run = await addRun(db.pool);
    const jobs = await enqueueJobs(db.pool, [newJob(run, "a1"), newJob(run, "a2"), newJob(run, "a3")]);
    const client = await db.pool.connect();
    try {
      await client.query("BEGIN");
      const behind = await claimQueuedJobs(client, 10, jobs[0]!.id);
      await client.query("ROLLBACK");
      assert.deepEqual(
        behind.map((c) => c.id),
        [jobs[1]!.id, jobs[2]!.id],
      );
    } finally {
      client.release();
    }
    await db.pool.query("UPDATE jobs SET state = 'completed', conclusion = 'success' WHERE run_id = $1", [
      run,
    ]);
  });

  void it("never gives the same job to two concurrent transactions", async () => {
    const run = await addRun(db.pool);
    const keys = Array.from({ length: 10 }, (_, i) => `k${i}`);
    await enqueueJobs(
      db.pool,
      keys.map((k) => newJob(run, k)),
    );
    const a = await db.pool.connect();
    const b = await db.pool.connect();
    try {
      await a.query("BEGIN");
      await b.query("BEGIN");
      const first = await claimQueuedJobs(a, 6);
      const second = await claimQueuedJobs(b, 6);
      assert.equal(first.length, 6);
      assert.equal(second.length, 4);
      const ids = new Set([...first, ...second].map((j) => j.id));
      assert.equal(ids.size, 10);
      // A third claimer while both hold their locks finds nothing left.
      const c = await db.pool.connect();
      try {
        await c.query("BEGIN");
        assert.deepEqual(await claimQueuedJobs(c, 10), []);
        await c.query("ROLLBACK");
      } finally {
        c.release();
      }
      // Locks end with the transaction: rolled-back claims are claimable again.
      await a.query("ROLLBACK");
      const again = new Set((await claimQueuedJobs(b, 10)).map((j) => j.id));
      assert.ok(first.every((j) => again.has(j.id)));
      await b.query("ROLLBACK");
    } finally {
      a.release();
      b.release();
    }
  });

  void it("plans the claim and the lease expiry over the partial indexes", async () => {
    const run = await addRun(db.pool);
    await enqueueJobs(
      db.pool,
      Array.from({ length: 2000 }, (_, i) => newJob(run, `bulk${i}`)),
    );
    // Most jobs finished, some running on a few nodes, a handful waiting: a realistic mix.
    await db.pool.query(
      `UPDATE jobs SET state = CASE WHEN key ~ '0$' THEN 'running' WHEN key ~ '1$' THEN 'queued' ELSE 'completed' END,
         conclusion = CASE WHEN key ~ '[02-9]$' AND NOT key ~ '0$' THEN 'success' END,
         node_id = CASE WHEN key ~ '0$' THEN $2::bigint END,
         lease_expires_at = CASE WHEN key ~ '0$' THEN now() + (random() * interval '1 minute') END
       WHERE run_id = $1`,
      [run, await addNode(db.pool)],
    );
    await db.pool.query("ANALYZE jobs");
    const plan = async (sql: string, values: unknown[] = []): Promise<string> =>
      (await db.pool.query<{ "QUERY PLAN": string }>(`EXPLAIN ${sql}`, values)).rows
        .map((r) => r["QUERY PLAN"])
        .join("\n");
    assert.match(await plan(CLAIM, [50]), /Index Scan using jobs_queued/);
    assert.match(await plan(REQUEUE), /Index Scan using jobs_leased/);
    assert.match(await plan(GIVE_UP), /Index Scan using jobs_leased/);
  });
});
