// Deploy pools and the dispatcher, through the real service and real agents (fake provisioner):
// a job whose run has independent rebuilds under way is not placed on a deploy pool's node — it
// waits (REBUILDS_PENDING) when only such nodes could take it, runs on an ordinary node when one
// can, and goes to the deploy pool once the rebuilds are judged. No sleeps: every wait is for a
// condition.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { makeRepo, type TempRepo } from "../helpers/repo.js";
import {
  eventually,
  startTestService,
  type JobView,
  type RunView,
  type TestService,
} from "../helpers/service.js";

let t: TestService;
const repos: TempRepo[] = [];
before(async () => {
  t = await startTestService();
});
after(async () => {
  await t?.stop();
  repos.forEach((r) => r.remove());
});

async function ok<T>(method: string, path: string, body?: unknown): Promise<T> {
  const r = await t.api<T>(method, path, body);
  assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${r.text}`);
  return r.body;
}

const nodeId = async (name: string): Promise<number> =>
  (await ok<Array<{ id: number; name: string }>>("GET", "/api/v1/nodes")).find((n) => n.name === name)!.id;

async function startNode(name: string, pool?: string): Promise<void> {
  const reg = await ok<{ token: string }>("POST", "/api/v1/nodes/registrations", {
    name,
    labels: ["prod"],
    ...(pool ? { pool } : {}),
  });
  await t.startAgent(reg.token, { fake: true });
  await eventually(async () => {
    const n = (await ok<Array<{ name: string; connected: boolean }>>("GET", "/api/v1/nodes")).find(
      (x) => x.name === name,
    );
    return n?.connected ? true : undefined;
  }, `${name} connected`);
}

const job = async (run: number): Promise<JobView | undefined> =>
  (await ok<RunView>("GET", `/api/v1/runs/${run}`)).jobs[0];

const waitsWith = (run: number, reason: RegExp): Promise<JobView> =>
  eventually(async () => {
    const j = await job(run);
    return j?.state === "queued" && reason.test(j.waitReason ?? "") ? j : undefined;
  }, `run ${run} to wait with ${reason}`);

/** An artifact of the run whose independent rebuilds are not judged yet (as finalize marks it). */
async function rebuildsUnderWay(run: number, jobId: number): Promise<void> {
  await t.db.pool.query(
    `INSERT INTO artifacts (repository_id, run_id, run_attempt, job_id, job_attempt, name, trust_tier,
                            expires_at, awaiting_rebuilds)
     SELECT repository_id, id, 1, $2, 1, 'app', 'trusted', now() + interval '1 day', true FROM runs WHERE id = $1`,
    [run, jobId],
  );
}

const judged = (run: number) =>
  t.db.pool.query(`UPDATE artifacts SET awaiting_rebuilds = false WHERE run_id = $1`, [run]);

const PENDING =
  /^the job waits until the independent rebuilds of its run's artifacts are judged before it may run in deploy pool ship$/;

describe("deploy pools and the dispatcher", () => {
  it("keeps a job whose run has rebuilds under way off deploy pools until they are judged", async () => {
    const repo = makeRepo({
      ".github/workflows/ci.yml":
        "on: push\njobs:\n  ship:\n    runs-on: [self-hosted, prod]\n    steps:\n      - run: echo hi\n",
    });
    repos.push(repo);
    const repoId = (
      await ok<{ id: number }>("POST", "/api/v1/repositories", { name: "acme/ship", cloneUrl: repo.dir })
    ).id;
    const trigger = async (): Promise<number> =>
      (await ok<{ runs: Array<{ id: number }> }>("POST", `/api/v1/repositories/${repoId}/runs`, {})).runs[0]!
        .id;
    await ok("POST", "/api/v1/pools", { name: "ship", trust: "high", open: true, deploy: true });

    // Queued before any node can take it (there is none yet); then its run has rebuilds under way.
    const first = await trigger();
    const j1 = await waitsWith(first, /^no node has image/);
    await rebuildsUnderWay(first, j1.id);
    await startNode("deployer", "ship");
    await waitsWith(first, PENDING);
    // An ordinary node may take it.
    await startNode("plain");
    const done = await t.waitRun(first, 30_000);
    assert.equal(done.conclusion, "success");
    assert.equal(done.jobs[0]?.node, "plain");

    // Only the deploy pool's node now; the job waits for the verdict, then goes there.
    await ok("POST", `/api/v1/nodes/${await nodeId("plain")}/disable`);
    await ok("POST", `/api/v1/nodes/${await nodeId("deployer")}/disable`);
    const second = await trigger();
    const j2 = await waitsWith(second, /disabled/);
    await rebuildsUnderWay(second, j2.id);
    await ok("POST", `/api/v1/nodes/${await nodeId("deployer")}/enable`);
    await waitsWith(second, PENDING);
    await judged(second);
    const shipped = await t.waitRun(second, 30_000);
    assert.equal(shipped.conclusion, "success");
    assert.equal(shipped.jobs[0]?.node, "deployer");
  });
});
