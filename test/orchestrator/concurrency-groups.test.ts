// The SQL of concurrency groups (src/orchestrator/concurrency) against real PostgreSQL: joins made
// at once from separate connections (as several orchestrators would) keep one running and one
// pending member per group; a held job is never claimed; a release promotes the pending member;
// groups are per repository and case-insensitive; a replayed join cancels nobody.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { claimQueuedJobs, enqueueJobs } from "../../src/queue/index.js";
import {
  joinGroup,
  memberState,
  releaseMembers,
  type Joined,
} from "../../src/orchestrator/concurrency/index.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { addRepository, addRun, newJob } from "../queue/fixtures.js";

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(() => db.drop());

async function join(
  repositoryId: number,
  runId: number,
  group: string,
  cancelInProgress = false,
  jobId: number | null = null,
): Promise<Joined> {
  const client = await db.pool.connect();
  try {
    await client.query("BEGIN");
    const j = await joinGroup(client, { repositoryId, runId, jobId, group, cancelInProgress });
    await client.query("COMMIT");
    return j;
  } catch (err) {
    await client.query("ROLLBACK");
    throw err;
  } finally {
    client.release();
  }
}

async function states(repositoryId: number): Promise<string[]> {
  const { rows } = await db.pool.query<{ state: string }>(
    `SELECT state FROM concurrency_members WHERE repository_id = $1 ORDER BY state`,
    [repositoryId],
  );
  return rows.map((r) => r.state);
}

describe("concurrency groups in SQL", () => {
  it("concurrent joins from many connections: one running, one pending, the rest superseded once each", async () => {
    const repo = await addRepository(db.pool);
    const runs: number[] = [];
    for (let i = 0; i < 8; i++) runs.push(await addRun(db.pool, repo));
    const joined = await Promise.all(runs.map((r, i) => join(repo, r, i % 2 === 0 ? "Deploy" : "deploy")));
    assert.equal(joined.filter((j) => j.state === "running").length, 1);
    const got = await states(repo);
    assert.deepEqual(got, ["pending", "running", ...Array<string>(6).fill("superseded")]);
    // Every superseded run was handed to exactly one join to cancel.
    const cancelled = joined.flatMap((j) => j.cancel.map((c) => c.runId)).sort((a, b) => a - b);
    assert.equal(cancelled.length, 6);
    assert.equal(new Set(cancelled).size, 6);
  });

  it("a replayed join returns the member's state and cancels nobody", async () => {
    const repo = await addRepository(db.pool);
    const [a, b] = [await addRun(db.pool, repo), await addRun(db.pool, repo)];
    assert.equal((await join(repo, a, "g")).state, "running");
    const first = await join(repo, b, "g");
    assert.equal(first.state, "pending");
    assert.equal(first.waitReason, `waiting for concurrency group 'g' (run ${a} is running)`);
    const again = await join(repo, b, "G");
    assert.equal(again.state, "pending");
    assert.deepEqual(again.cancel, []);
  });

  it("groups are per repository", async () => {
    const [r1, r2] = [await addRepository(db.pool), await addRepository(db.pool)];
    assert.equal((await join(r1, await addRun(db.pool, r1), "same")).state, "running");
    assert.equal((await join(r2, await addRun(db.pool, r2), "same")).state, "running");
  });

  it("cancel-in-progress names the running member; the newcomer waits until it has ended", async () => {
    const repo = await addRepository(db.pool);
    const [a, b] = [await addRun(db.pool, repo), await addRun(db.pool, repo)];
    await join(repo, a, "ship");
    const j = await join(repo, b, "ship", true);
    assert.equal(j.state, "pending");
    assert.deepEqual(j.cancel, [
      {
        runId: a,
        jobId: null,
        reason: `cancelled in progress by run ${b} (concurrency group 'ship', cancel-in-progress)`,
      },
    ]);
    assert.deepEqual(await releaseMembers(db.pool, { runId: a }), [{ runId: b, jobId: null }]);
    assert.equal(await memberState(db.pool, { runId: b, jobId: null }), "running");
    // Released twice: nothing more happens.
    assert.deepEqual(await releaseMembers(db.pool, { runId: a }), []);
  });

  it("a pending job is never claimed; once promoted it is", async () => {
    const repo = await addRepository(db.pool);
    const [a, b] = [await addRun(db.pool, repo), await addRun(db.pool, repo)];
    const [ja] = await enqueueJobs(db.pool, [newJob(a, "k")]);
    const [jb] = await enqueueJobs(db.pool, [newJob(b, "k")]);
    await join(repo, a, "db", false, ja!.id);
    assert.equal((await join(repo, b, "db", false, jb!.id)).state, "pending");
    const claimed = async (): Promise<number[]> => {
      const client = await db.pool.connect();
      try {
        await client.query("BEGIN");
        const c = await claimQueuedJobs(client, 100);
        await client.query("ROLLBACK");
        return c.map((x) => x.id).filter((id) => id === ja!.id || id === jb!.id);
      } finally {
        client.release();
      }
    };
    assert.deepEqual(await claimed(), [ja!.id]);
    await db.pool.query(`UPDATE jobs SET state = 'completed', conclusion = 'success' WHERE id = $1`, [
      ja!.id,
    ]);
    assert.deepEqual(await releaseMembers(db.pool, { runId: a, jobId: ja!.id }), [
      { runId: b, jobId: jb!.id },
    ]);
    assert.deepEqual(await claimed(), [jb!.id]);
  });

  it("a job in the group its own run holds at workflow level is a deadlock, not a wait", async () => {
    const repo = await addRepository(db.pool);
    const run = await addRun(db.pool, repo);
    await join(repo, run, "Both");
    const [job] = await enqueueJobs(db.pool, [newJob(run, "k")]);
    assert.equal((await join(repo, run, "both", false, job!.id)).state, "deadlock");
  });
});
