// A single job being cancelled (its run goes on): a rejection or a lease expiry that comes after
// the cancel completes the job as cancelled instead of queueing it again; an accept that crosses
// the cancel reports it.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { acceptJobTimed, expireLeases, rejectJob } from "../../src/queue/index.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { assignedJob, expireLease, jobRow, world, type World } from "./fixtures.js";

void describe("cancel of one job", () => {
  let db: TestDatabase;
  let w: World;
  before(async () => {
    db = await createTestDatabase();
    w = await world(db.pool);
  });
  after(() => db.drop());

  const cancelRequested = (id: number): Promise<unknown> =>
    db.pool.query("UPDATE jobs SET cancel_requested = true WHERE id = $1", [id]);

  void it("a rejection after the cancel completes the job as cancelled", async () => {
    const j = await assignedJob(db.pool, w, "reject-after-cancel");
    await cancelRequested(j.id);
    assert.equal(await rejectJob(db.pool, j.id, j.attempt, "busy"), true);
    const row = await jobRow(db.pool, j.id);
    assert.equal(row.state, "completed");
    assert.equal(row.conclusion, "cancelled");
  });

  void it("a lease expiry after the cancel completes the job as cancelled, not requeued", async () => {
    const j = await assignedJob(db.pool, w, "expire-after-cancel");
    await cancelRequested(j.id);
    await expireLease(db.pool, j.id);
    const r = await expireLeases(db.pool);
    assert.ok(r.cancelled.includes(j.id));
    assert.ok(!r.requeued.includes(j.id));
    assert.equal((await jobRow(db.pool, j.id)).conclusion, "cancelled");
  });

  void it("an accept crossing the cancel says so", async () => {
    const j = await assignedJob(db.pool, w, "accept-after-cancel");
    await cancelRequested(j.id);
    const a = await acceptJobTimed(db.pool, j.id, j.attempt, 60_000);
    assert.equal(a?.cancelRequested, true);
    const plain = await assignedJob(db.pool, w, "accept-plain");
    assert.equal((await acceptJobTimed(db.pool, plain.id, plain.attempt, 60_000))?.cancelRequested, false);
  });
});
