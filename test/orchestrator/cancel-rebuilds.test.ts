// `airlock runs cancel` on a finished run whose independent rebuild is still queued: a run ends
// with its own jobs and its rebuilds run after it (docs/integrity.md, Corroboration), so a rebuild
// no eligible node can take (too few operators) kept the artifacts waiting and the cancel the
// docs point to answered "already finished". Now it cancels those rebuilds; a finished run with
// none is still refused with CONFLICT. Rows as the core writes them, on the real service and DB.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { makeRepo, type TempRepo } from "../helpers/repo.js";
import { startTestService, type TestService } from "../helpers/service.js";
import { seedJob, seedRun } from "../server/seed.js";
import { noReplicaNode } from "../../src/scheduler/reasons.js";

let t: TestService;
const repos: TempRepo[] = [];
before(async () => {
  t = await startTestService();
});
after(async () => {
  await t?.stop();
  repos.forEach((r) => r.remove());
});

async function finishedRun(name: string): Promise<{ runId: number; buildId: number }> {
  const repo = makeRepo({
    ".github/workflows/ci.yml":
      "on: push\njobs:\n  b:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi\n",
  });
  repos.push(repo);
  const r = await t.api<{ id: number }>("POST", "/api/v1/repositories", { name, cloneUrl: repo.dir });
  assert.equal(r.status, 201, r.text);
  const runId = await seedRun(t.db.pool, r.body.id, { state: "completed", conclusion: "success" });
  const buildId = await seedJob(t.db.pool, runId, {
    state: "completed",
    conclusion: "success",
    key: "ci.yml#b",
  });
  return { runId, buildId };
}

const job = async (id: number): Promise<{ state: string; conclusion: string | null; error: string | null }> =>
  (await t.db.pool.query(`SELECT state, conclusion, error FROM jobs WHERE id = $1`, [id])).rows[0];

describe("cancelling a finished run", () => {
  it("cancels its rebuilds still waiting for a node", async () => {
    const { runId, buildId } = await finishedRun("acme/cancel-rebuild");
    const rebuild = await seedJob(t.db.pool, runId, { key: "ci.yml#b#rebuild-1" });
    await t.db.pool.query(`UPDATE jobs SET replica_of = $2, wait_reason = $3 WHERE id = $1`, [
      rebuild,
      buildId,
      noReplicaNode(false, ["dana"]).reason,
    ]);
    const r = await t.api("POST", `/api/v1/runs/${runId}/cancel`);
    assert.ok(r.status < 300, r.text);
    assert.deepEqual(await job(rebuild), {
      state: "completed",
      conclusion: "cancelled",
      error: "rebuild cancelled after its run had finished",
    });
    assert.equal((await job(buildId)).conclusion, "success");
    const run = await t.api<{ state: string; conclusion: string }>("GET", `/api/v1/runs/${runId}`);
    assert.equal(run.body.conclusion, "success");
    // Nothing left to cancel now.
    const again = await t.api("POST", `/api/v1/runs/${runId}/cancel`);
    assert.equal(again.status, 409, again.text);
    assert.match(again.text, /already finished \(success\): nothing to cancel/);
  });

  it("leaves a rebuild under way, or one only waiting for room, to finish", async () => {
    const { runId, buildId } = await finishedRun("acme/cancel-busy");
    const running = await seedJob(t.db.pool, runId, { key: "ci.yml#b#rebuild-1" });
    const full = await seedJob(t.db.pool, runId, { key: "ci.yml#b#rebuild-2" });
    await t.db.pool.query(`UPDATE jobs SET replica_of = $2, state = 'running', attempt = 1 WHERE id = $1`, [
      running,
      buildId,
    ]);
    await t.db.pool.query(`UPDATE jobs SET replica_of = $2, wait_reason = $3 WHERE id = $1`, [
      full,
      buildId,
      "all 1 eligible node is full",
    ]);
    const r = await t.api("POST", `/api/v1/runs/${runId}/cancel`);
    assert.equal(r.status, 409, r.text);
    assert.equal((await job(running)).state, "running");
    assert.equal((await job(full)).state, "queued");
  });

  it("is refused when nothing of it is waiting", async () => {
    const { runId } = await finishedRun("acme/cancel-done");
    const r = await t.api("POST", `/api/v1/runs/${runId}/cancel`);
    assert.equal(r.status, 409, r.text);
  });
});
