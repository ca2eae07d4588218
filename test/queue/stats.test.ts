// Figures for the scheduler and /metrics (capacity held per node, running counts per repository and
// organization, queue depth, jobs by state) and live step rows.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  acceptJob,
  completeJob,
  enqueueJobs,
  jobsByState,
  nodeUsage,
  queueDepth,
  recordStep,
  runningCounts,
} from "../../src/queue/index.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import {
  addFlavour,
  addNode,
  addOrganization,
  addRepository,
  addRun,
  assignedJob,
  defaultOrganization,
  newJob,
  result,
  world,
} from "./fixtures.js";

void describe("queue figures", () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(() => db.drop());

  void it("sums flavours of assigned and running jobs per node and counts them per repository and organization", async () => {
    const w = await world(db.pool);
    const small = await addFlavour(db.pool, { cpus: 0.5, memoryMb: 512, diskMb: 1000 });
    const otherNode = await addNode(db.pool);
    const org = await addOrganization(db.pool);
    const repoB = await addRepository(db.pool, org);
    const runB = await addRun(db.pool, repoB);

    const a = await assignedJob(db.pool, w, "a"); // 2 cpus, 4096, 10000
    await acceptJob(db.pool, a.id, a.attempt, 60_000);
    await assignedJob(db.pool, { ...w, flavourId: small }, "b");
    await assignedJob(db.pool, { ...w, runId: runB, nodeId: otherNode, flavourId: small }, "c");
    const done = await assignedJob(db.pool, w, "done");
    await completeJob(db.pool, done.id, done.attempt, result());
    await enqueueJobs(db.pool, [newJob(w.runId, "waiting1"), newJob(runB, "waiting2")]);

    const usage = await nodeUsage(db.pool);
    assert.deepEqual(usage.get(w.nodeId), { cpus: 2.5, memoryMb: 4608, diskMb: 11000, jobs: 2 });
    assert.deepEqual(usage.get(otherNode), { cpus: 0.5, memoryMb: 512, diskMb: 1000, jobs: 1 });
    assert.equal(usage.size, 2);

    const { rows } = await db.pool.query<{ repository_id: string }>(
      "SELECT repository_id FROM runs WHERE id = $1",
      [w.runId],
    );
    const repoA = Number(rows[0]!.repository_id);
    const counts = await runningCounts(db.pool);
    assert.deepEqual(
      [...counts.byRepository].sort(),
      [
        [repoA, 2],
        [repoB, 1],
      ].sort(),
    );
    assert.deepEqual(
      counts.byOrganization,
      new Map([
        [await defaultOrganization(db.pool), 2],
        [org, 1],
      ]),
    );

    assert.equal(await queueDepth(db.pool), 2);
    assert.deepEqual(await jobsByState(db.pool), {
      queued: 2,
      assigned: 2,
      running: 1,
      completed: 1,
      lost: 0,
    });
  });

  void it("records live steps for the current attempt only", async () => {
    const w = await world(db.pool);
    const job = await assignedJob(db.pool, w, "steps");
    await acceptJob(db.pool, job.id, job.attempt, 60_000);
    const step = { index: 0, id: "build", name: "Build", stage: "main" as const };
    await recordStep(db.pool, job.id, job.attempt, step, "started");
    const read = async (): Promise<Array<Record<string, unknown>>> =>
      (
        await db.pool.query(
          "SELECT idx, step_id, conclusion, outputs, started_at IS NOT NULL AS started, finished_at IS NOT NULL AS finished FROM steps WHERE job_id = $1 ORDER BY idx",
          [job.id],
        )
      ).rows;
    assert.deepEqual(await read(), [
      { idx: 0, step_id: "build", conclusion: null, outputs: {}, started: true, finished: false },
    ]);
    await recordStep(db.pool, job.id, job.attempt, step, {
      outcome: "failure",
      conclusion: "success",
      outputs: { a: "1" },
    });
    // A finish without a start (the start was never delivered) still makes a row.
    await recordStep(
      db.pool,
      job.id,
      job.attempt,
      { ...step, index: 1, id: "test" },
      {
        outcome: "success",
        conclusion: "success",
        outputs: {},
      },
    );
    assert.deepEqual(await read(), [
      { idx: 0, step_id: "build", conclusion: "success", outputs: { a: "1" }, started: true, finished: true },
      { idx: 1, step_id: "test", conclusion: "success", outputs: {}, started: true, finished: true },
    ]);
    // A stale attempt writes nothing.
    await recordStep(db.pool, job.id, job.attempt + 1, { ...step, index: 2, id: "x" }, "started");
    assert.equal((await read()).length, 2);
    // completeJob replaces live steps with the result's (a step index absent from the result goes).
    await recordStep(db.pool, job.id, job.attempt, { ...step, index: 5, id: "extra" }, "started");
    assert.equal(await completeJob(db.pool, job.id, job.attempt, result()), true);
    assert.deepEqual(
      (await read()).map((r) => [r.idx, r.step_id, r.conclusion]),
      [
        [0, "a", "success"],
        [1, "b", "success"],
      ],
    );
  });
});
