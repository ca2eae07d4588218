// Leases: an expired lease requeues the job (another attempt, a wait reason naming the node) until
// max_attempts, then the job is lost; stale messages of an expired attempt change nothing.
// Cancelling a run: waiting jobs complete as cancelled, jobs in flight are returned to be stopped.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  acceptJob,
  appendLog,
  cancelRunJobs,
  completeJob,
  enqueueJobs,
  expireLeases,
  recordStep,
  renewLeases,
} from "../../src/queue/index.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import {
  addNode,
  addRun,
  assignQueued,
  assignedJob,
  expireLease,
  jobRow,
  newJob,
  result,
  world,
  type World,
} from "./fixtures.js";

void describe("lease expiry", () => {
  let db: TestDatabase;
  let w: World;
  let nodeName: string;
  before(async () => {
    db = await createTestDatabase();
    nodeName = "silent-node";
    w = { ...(await world(db.pool)), nodeId: await addNode(db.pool, nodeName) };
  });
  after(() => db.drop());

  void it("leaves leases that have not run out alone", async () => {
    const job = await assignedJob(db.pool, w, "fresh");
    const expired = await expireLeases(db.pool);
    assert.ok(!expired.requeued.includes(job.id) && !expired.lost.includes(job.id));
    assert.equal((await jobRow(db.pool, job.id)).state, "assigned");
  });

  void it("requeues until max_attempts, then marks the job lost", async () => {
    const job = await assignedJob(db.pool, w, "flaky", { maxAttempts: 2 });
    await acceptJob(db.pool, job.id, job.attempt, 60_000);
    await recordStep(
      db.pool,
      job.id,
      job.attempt,
      { index: 0, id: "s", name: "S", stage: "main" },
      "started",
    );
    await expireLease(db.pool, job.id);
    const first = await expireLeases(db.pool);
    assert.deepEqual(first, { requeued: [job.id], lost: [], cancelled: [] });
    let row = await jobRow(db.pool, job.id);
    assert.equal(row.state, "queued");
    assert.equal(row.attempt, 1);
    assert.equal(row.node_id, null);
    assert.equal(row.wait_reason, `retrying after node ${nodeName} stopped answering`);
    const steps = await db.pool.query("SELECT 1 FROM steps WHERE job_id = $1", [job.id]);
    assert.equal(steps.rowCount, 0);

    // The old attempt's agent comes back: every message is refused.
    assert.equal(await acceptJob(db.pool, job.id, job.attempt, 60_000), false);
    assert.equal(await renewLeases(db.pool, w.nodeId, [{ jobId: job.id, attempt: job.attempt }], 60_000), 0);
    assert.equal(await completeJob(db.pool, job.id, job.attempt, result()), false);
    assert.equal((await jobRow(db.pool, job.id)).state, "queued");

    const second = await assignQueued(db.pool, w, job.id);
    assert.equal(second.attempt, 2);
    assert.equal(await completeJob(db.pool, job.id, job.attempt, result()), false); // attempt 1 is stale now
    assert.equal((await appendLog(db.pool, job.id, job.attempt, 1, "old\n", 1000)).stored, false);
    await expireLease(db.pool, job.id);
    assert.deepEqual(await expireLeases(db.pool), { requeued: [], lost: [job.id], cancelled: [] });
    row = await jobRow(db.pool, job.id);
    assert.equal(row.state, "lost");
    assert.equal(row.conclusion, "failure");
    assert.match(row.error ?? "", /^lost: /);
    assert.ok(row.finished_at);
    // Nothing moves a lost job any more.
    assert.equal(await completeJob(db.pool, job.id, second.attempt, result()), false);
    assert.deepEqual(await expireLeases(db.pool), { requeued: [], lost: [], cancelled: [] });
  });

  void it("does not expire a completed job whose lease time has passed", async () => {
    const job = await assignedJob(db.pool, w, "finished-in-time");
    assert.equal(await completeJob(db.pool, job.id, job.attempt, result()), true);
    await expireLease(db.pool, job.id);
    assert.deepEqual(await expireLeases(db.pool), { requeued: [], lost: [], cancelled: [] });
    assert.equal((await jobRow(db.pool, job.id)).state, "completed");
  });

  void it("skips a job another transaction holds, and leaves it for the next pass", async () => {
    const job = await assignedJob(db.pool, w, "held");
    await expireLease(db.pool, job.id);
    const holder = await db.pool.connect();
    try {
      await holder.query("BEGIN");
      await holder.query("SELECT 1 FROM jobs WHERE id = $1 FOR UPDATE", [job.id]);
      assert.deepEqual(await expireLeases(db.pool), { requeued: [], lost: [], cancelled: [] });
      await holder.query("ROLLBACK");
    } finally {
      holder.release();
    }
    assert.deepEqual((await expireLeases(db.pool)).requeued, [job.id]);
  });
});

void describe("cancelRunJobs", () => {
  let db: TestDatabase;
  let w: World;
  before(async () => {
    db = await createTestDatabase();
    w = await world(db.pool);
  });
  after(() => db.drop());

  void it("cancels waiting jobs and returns those in flight; idempotent", async () => {
    const running = await assignedJob(db.pool, w, "run");
    await acceptJob(db.pool, running.id, running.attempt, 60_000);
    const assigned = await assignedJob(db.pool, w, "assigned");
    const [waiting] = await enqueueJobs(db.pool, [newJob(w.runId, "waiting")]);
    const other = await addRun(db.pool);
    const [untouched] = await enqueueJobs(db.pool, [newJob(other, "other")]);

    const out = await cancelRunJobs(db.pool, w.runId);
    assert.deepEqual(out.cancelledQueued, [waiting!.id]);
    assert.deepEqual(
      out.toStop.sort((a, b) => a.jobId - b.jobId),
      [
        { jobId: running.id, attempt: running.attempt, nodeId: w.nodeId },
        { jobId: assigned.id, attempt: assigned.attempt, nodeId: w.nodeId },
      ],
    );
    const row = await jobRow(db.pool, waiting!.id);
    assert.equal(row.state, "completed");
    assert.equal(row.conclusion, "cancelled");
    assert.equal((await jobRow(db.pool, untouched!.id)).state, "queued");
    const { rows } = await db.pool.query("SELECT cancel_requested FROM runs WHERE id = $1", [w.runId]);
    assert.equal(rows[0].cancel_requested, true);

    // Again: nothing left waiting, the same attempts still to stop.
    const again = await cancelRunJobs(db.pool, w.runId);
    assert.deepEqual(again.cancelledQueued, []);
    assert.equal(again.toStop.length, 2);

    // The agent reports the stopped attempt as cancelled; the silent one expires as cancelled, not retried.
    assert.equal(
      await completeJob(db.pool, running.id, running.attempt, { ...result("cancelled"), steps: [] }),
      true,
    );
    await expireLease(db.pool, assigned.id);
    assert.deepEqual(await expireLeases(db.pool), { requeued: [], lost: [], cancelled: [assigned.id] });
    const gone = await jobRow(db.pool, assigned.id);
    assert.equal(gone.state, "completed");
    assert.equal(gone.conclusion, "cancelled");
    assert.deepEqual(await cancelRunJobs(db.pool, w.runId), { cancelledQueued: [], toStop: [] });
  });
});
