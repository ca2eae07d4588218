// Every job transition of the queue and every refused one (stale attempt, wrong state, completed
// job), against a real PostgreSQL.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  acceptJob,
  completeJob,
  enqueueJobs,
  failJob,
  recordFinishedJob,
  rejectJob,
  renewLeases,
  assignJobs,
  setWaitReasons,
} from "../../src/queue/index.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { addNode, assignedJob, jobRow, newJob, result, world, type World } from "./fixtures.js";

void describe("queue transitions", () => {
  let db: TestDatabase;
  let w: World;
  before(async () => {
    db = await createTestDatabase();
    w = await world(db.pool);
  });
  after(() => db.drop());

  void it("enqueues idempotently by (run, key) and returns existing ids", async () => {
    const first = await enqueueJobs(db.pool, [
      newJob(w.runId, "e1"),
      newJob(w.runId, "e2", { labels: ["a", "b"] }),
    ]);
    assert.deepEqual(
      first.map((j) => [j.key, j.created]),
      [
        ["e1", true],
        ["e2", true],
      ],
    );
    const again = await enqueueJobs(db.pool, [
      newJob(w.runId, "e3"),
      newJob(w.runId, "e2"),
      newJob(w.runId, "e1"),
    ]);
    assert.deepEqual(
      again.map((j) => [j.key, j.created]),
      [
        ["e3", true],
        ["e2", false],
        ["e1", false],
      ],
    );
    assert.equal(again[1]!.id, first[1]!.id);
    assert.equal(again[2]!.id, first[0]!.id);
    const row = await jobRow(db.pool, first[1]!.id);
    assert.equal(row.state, "queued");
    assert.equal(row.attempt, 0);
    const { rows } = await db.pool.query(
      "SELECT labels, matrix, description->>'jobId' AS d, queued_at FROM jobs WHERE id = $1",
      [first[1]!.id],
    );
    assert.deepEqual(rows[0].labels, ["a", "b"]);
    assert.equal(rows[0].matrix, null);
    assert.equal(rows[0].d, "e2");
    assert.ok(rows[0].queued_at instanceof Date);
    assert.deepEqual(await enqueueJobs(db.pool, []), []);
  });

  void it("stores a job that never ran as completed, idempotently", async () => {
    const job = {
      runId: w.runId,
      key: "skipped#1",
      jobId: "s",
      name: "s",
      workflow: "ci.yml",
      matrix: { os: "x" },
    };
    const id = await recordFinishedJob(db.pool, { ...job, conclusion: "skipped" });
    assert.equal(await recordFinishedJob(db.pool, { ...job, conclusion: "failure", error: "x" }), id);
    const row = await jobRow(db.pool, id);
    assert.equal(row.state, "completed");
    assert.equal(row.conclusion, "skipped");
    assert.ok(row.finished_at);
    // Enqueueing the same key later does not resurrect it.
    const [again] = await enqueueJobs(db.pool, [newJob(w.runId, "skipped#1")]);
    assert.deepEqual(again, { id, key: "skipped#1", created: false });
  });

  void it("assigns: queued → assigned with attempt + 1, a lease, no wait reason; only queued jobs", async () => {
    const [job] = await enqueueJobs(db.pool, [newJob(w.runId, "a1")]);
    await setWaitReasons(db.pool, [{ jobId: job!.id, reason: "no node" }]);
    assert.equal((await jobRow(db.pool, job!.id)).wait_reason, "no node");
    const a = { jobId: job!.id, nodeId: w.nodeId, imageId: w.imageId, flavourId: w.flavourId };
    const [assigned] = await assignJobs(db.pool, [a], 30_000);
    assert.equal(assigned!.jobId, job!.id);
    assert.equal(assigned!.attempt, 1);
    assert.equal(assigned!.description.jobId, "a1");
    const row = await jobRow(db.pool, job!.id);
    assert.equal(row.state, "assigned");
    assert.equal(Number(row.node_id), w.nodeId);
    assert.equal(row.wait_reason, null);
    assert.ok(row.lease_expires_at && row.lease_expires_at.getTime() > Date.now());
    // A second assignment of the same job (another dispatcher, a repeat) changes nothing.
    assert.deepEqual(await assignJobs(db.pool, [a], 30_000), []);
    assert.equal((await jobRow(db.pool, job!.id)).attempt, 1);
    // Wait reasons are only for queued jobs.
    await setWaitReasons(db.pool, [{ jobId: job!.id, reason: "late" }]);
    assert.equal((await jobRow(db.pool, job!.id)).wait_reason, null);
  });

  void it("accepts: assigned → running, idempotent for the same attempt, refused for another", async () => {
    const job = await assignedJob(db.pool, w, "acc");
    assert.equal(await acceptJob(db.pool, job.id, job.attempt + 1, 30_000), false);
    assert.equal(await acceptJob(db.pool, job.id, job.attempt - 1, 30_000), false);
    assert.equal((await jobRow(db.pool, job.id)).state, "assigned");
    assert.equal(await acceptJob(db.pool, job.id, job.attempt, 30_000), true);
    const row = await jobRow(db.pool, job.id);
    assert.equal(row.state, "running");
    assert.ok(row.started_at);
    assert.equal(await acceptJob(db.pool, job.id, job.attempt, 30_000), true);
    assert.equal((await jobRow(db.pool, job.id)).started_at?.getTime(), row.started_at.getTime());
  });

  void it("rejects: assigned → queued without counting the attempt; not once running", async () => {
    const job = await assignedJob(db.pool, w, "rej");
    const before = await db.pool.query<{ max_attempts: number }>(
      `SELECT max_attempts FROM jobs WHERE id = $1`,
      [job.id],
    );
    assert.equal(await rejectJob(db.pool, job.id, job.attempt + 1, "stale"), false);
    assert.equal(await rejectJob(db.pool, job.id, job.attempt, "no such image"), true);
    const row = await jobRow(db.pool, job.id);
    assert.equal(row.state, "queued");
    // Not counted against the retries, and its number never given to the next node (the rejecting
    // node held the attempt's runtime token).
    assert.equal(row.attempt, job.attempt);
    const after = await db.pool.query<{ max_attempts: number }>(
      `SELECT max_attempts FROM jobs WHERE id = $1`,
      [job.id],
    );
    assert.equal(after.rows[0]!.max_attempts, before.rows[0]!.max_attempts + 1);
    assert.equal(row.node_id, null);
    assert.match(row.wait_reason ?? "", /rejected the job: no such image/);
    assert.equal(await rejectJob(db.pool, job.id, job.attempt, "again"), false);

    const running = await assignedJob(db.pool, w, "rej2");
    assert.equal(await acceptJob(db.pool, running.id, running.attempt, 30_000), true);
    assert.equal(await rejectJob(db.pool, running.id, running.attempt, "too late"), false);
    assert.equal((await jobRow(db.pool, running.id)).state, "running");
  });

  void it("renews leases only for the node's current attempts", async () => {
    const job = await assignedJob(db.pool, w, "renew", {}, 1_000);
    const before = (await jobRow(db.pool, job.id)).lease_expires_at!.getTime();
    const other = await addNode(db.pool);
    assert.equal(await renewLeases(db.pool, other, [{ jobId: job.id, attempt: job.attempt }], 600_000), 0);
    assert.equal(
      await renewLeases(db.pool, w.nodeId, [{ jobId: job.id, attempt: job.attempt + 1 }], 600_000),
      0,
    );
    assert.equal((await jobRow(db.pool, job.id)).lease_expires_at!.getTime(), before);
    assert.equal(await renewLeases(db.pool, w.nodeId, [{ jobId: job.id, attempt: job.attempt }], 600_000), 1);
    assert.ok((await jobRow(db.pool, job.id)).lease_expires_at!.getTime() > before);
    assert.equal(await renewLeases(db.pool, w.nodeId, [], 600_000), 0);
  });

  void it("completes with conclusion, outputs and steps; refuses stale attempts and repeats", async () => {
    const job = await assignedJob(db.pool, w, "done");
    await acceptJob(db.pool, job.id, job.attempt, 30_000);
    assert.equal(await completeJob(db.pool, job.id, job.attempt + 1, result("failure")), false);
    assert.equal((await jobRow(db.pool, job.id)).state, "running");
    assert.equal(await completeJob(db.pool, job.id, job.attempt, result("success")), true);
    const row = await jobRow(db.pool, job.id);
    assert.equal(row.state, "completed");
    assert.equal(row.conclusion, "success");
    assert.deepEqual(row.outputs, { out: "1" });
    assert.equal(row.lease_expires_at, null);
    assert.ok(row.finished_at);
    const steps = await db.pool.query(
      "SELECT idx, step_id, conclusion, outputs FROM steps WHERE job_id = $1 ORDER BY idx",
      [job.id],
    );
    assert.deepEqual(steps.rows, [
      { idx: 0, step_id: "a", conclusion: "success", outputs: {} },
      { idx: 1, step_id: "b", conclusion: "success", outputs: { x: "y" } },
    ]);
    // A resent `finished` (even with another result) changes nothing.
    assert.equal(await completeJob(db.pool, job.id, job.attempt, result("failure")), false);
    assert.equal(await failJob(db.pool, job.id, job.attempt, "late"), false);
    assert.equal((await jobRow(db.pool, job.id)).conclusion, "success");
  });

  void it("completes straight from assigned (cancelled before it was accepted)", async () => {
    const job = await assignedJob(db.pool, w, "quick");
    assert.equal(
      await completeJob(db.pool, job.id, job.attempt, { ...result("cancelled"), steps: [] }, "cancelled"),
      true,
    );
    const row = await jobRow(db.pool, job.id);
    assert.equal(row.conclusion, "cancelled");
    assert.equal(row.error, "cancelled");
  });

  void it("fails a job attempt with an error, once", async () => {
    const job = await assignedJob(db.pool, w, "fail");
    await acceptJob(db.pool, job.id, job.attempt, 30_000);
    assert.equal(await failJob(db.pool, job.id, job.attempt - 1, "stale"), false);
    assert.equal(await failJob(db.pool, job.id, job.attempt, "machine could not start"), true);
    const row = await jobRow(db.pool, job.id);
    assert.equal(row.state, "completed");
    assert.equal(row.conclusion, "failure");
    assert.equal(row.error, "machine could not start");
    assert.equal(await failJob(db.pool, job.id, job.attempt, "again"), false);
    assert.equal(await acceptJob(db.pool, job.id, job.attempt, 30_000), false);
    assert.equal(
      await renewLeases(
        db.pool,
        w.nodeId,
        [job].map((j) => ({ jobId: j.id, attempt: j.attempt })),
        1000,
      ),
      0,
    );
  });

  void it("refuses every agent transition on a queued job", async () => {
    const [job] = await enqueueJobs(db.pool, [newJob(w.runId, "never")]);
    const id = job!.id;
    assert.equal(await acceptJob(db.pool, id, 0, 1000), false);
    assert.equal(await rejectJob(db.pool, id, 0, "x"), false);
    assert.equal(await completeJob(db.pool, id, 0, result()), false);
    assert.equal(await failJob(db.pool, id, 0, "x"), false);
    assert.equal((await jobRow(db.pool, id)).state, "queued");
  });
});
