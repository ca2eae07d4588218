// Pools, trust tiers, authorizations and hard labels through the real service and real agents
// (fake provisioner): an untrusted run waits without a low-trust pool, asks for an authorization
// on first use, runs once approved and taints its node, which then refuses trusted work; a pool
// group's authorization covers its pools; revocation stops new machines, and with cancelRunning
// also the running ones. No sleeps: every wait is for a condition.
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

interface Auth {
  id: number;
  pool: string | null;
  group: string | null;
  state: string;
}
interface NodeRow {
  id: number;
  name: string;
  labels: string[];
  pool: string;
  connected: boolean;
  taintedAt: string | null;
}

async function ok<T>(method: string, path: string, body?: unknown): Promise<T> {
  const r = await t.api<T>(method, path, body);
  assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${r.text}`);
  return r.body;
}

async function addRepo(name: string, runsOn: string, step = "echo hi"): Promise<number> {
  const repo = makeRepo({
    ".github/workflows/ci.yml": `on: push\njobs:\n  build:\n    runs-on: ${runsOn}\n    steps:\n      - run: ${step}\n`,
  });
  repos.push(repo);
  return (await ok<{ id: number }>("POST", "/api/v1/repositories", { name, cloneUrl: repo.dir })).id;
}

async function trigger(repo: number): Promise<number> {
  const r = await ok<{ runs: Array<{ id: number }> }>("POST", `/api/v1/repositories/${repo}/runs`, {});
  return r.runs[0]!.id;
}

async function job(run: number): Promise<JobView | undefined> {
  return (await ok<RunView>("GET", `/api/v1/runs/${run}`)).jobs[0];
}

const waitsWith = (run: number, reason: string): Promise<JobView> =>
  eventually(async () => {
    const j = await job(run);
    return j?.state === "queued" && j.waitReason === reason ? j : undefined;
  }, `run ${run} to wait with "${reason}"`);

const runningNow = (run: number): Promise<JobView> =>
  eventually(async () => {
    const j = await job(run);
    return j?.state === "running" ? j : undefined;
  }, `run ${run} to be running`);

async function nodeNamed(name: string): Promise<NodeRow> {
  const nodes = await ok<NodeRow[]>("GET", "/api/v1/nodes");
  return nodes.find((n) => n.name === name)!;
}

async function startNode(name: string, labels: string[], pool?: string, claims?: string[]): Promise<void> {
  const reg = await ok<{ token: string }>("POST", "/api/v1/nodes/registrations", {
    name,
    labels,
    ...(pool ? { pool } : {}),
  });
  await t.startAgent(reg.token, { fake: true, ...(claims ? { labels: claims } : {}) });
  await eventually(async () => ((await nodeNamed(name))?.connected ? true : undefined), `${name} connected`);
}

const authsOf = (repo: number): Promise<Auth[]> =>
  ok<Auth[]>("GET", `/api/v1/repositories/${repo}/authorizations`);

describe("pools, trust tiers and authorizations", () => {
  it("an untrusted run waits for a low-trust pool, then for its authorization, and taints its node", async () => {
    await startNode("plain", []);
    const repo = await addRepo("acme/forked", "[self-hosted, forks]");
    const run = await trigger(repo);
    await waitsWith(run, "no node has label `forks` (job asks for [self-hosted, forks])");
    await t.db.pool.query("UPDATE runs SET trust_tier = 'untrusted' WHERE id = $1", [run]);
    // Labels come from the administrator: give `plain` the label; it is still a high-trust node.
    await ok("PUT", `/api/v1/nodes/${(await nodeNamed("plain")).id}/labels`, { labels: ["forks"] });
    await waitsWith(run, "no low-trust pool: untrusted runs wait (see docs/security.md)");

    await ok("POST", "/api/v1/pools", { name: "forks", trust: "low" });
    await startNode("low1", ["forks"], "forks");
    await waitsWith(run, "awaiting authorization for pool forks");
    const [requested] = await eventually(async () => {
      const a = await authsOf(repo);
      return a.length > 0 ? a : undefined;
    }, "the request");
    assert.deepEqual([requested?.pool, requested?.state], ["forks", "requested"]);

    await ok("POST", `/api/v1/authorizations/${requested!.id}/approve`);
    const done = await t.waitRun(run, 30_000);
    assert.equal(done.conclusion, "success");
    assert.equal(done.jobs[0]?.node, "low1");
    assert.ok((await nodeNamed("low1")).taintedAt, "low1 ran low-trust work");

    // Moved to a high-trust pool, the tainted node still refuses trusted work.
    await ok("PUT", `/api/v1/nodes/${(await nodeNamed("low1")).id}/pool`, { pool: "default" });
    await ok("PUT", `/api/v1/nodes/${(await nodeNamed("plain")).id}/labels`, { labels: [] });
    const trusted = await trigger(await addRepo("acme/trusted", "[self-hosted, forks]"));
    await waitsWith(trusted, "node `low1` ran low-trust work: re-register it to run trusted jobs");
    await ok("POST", `/api/v1/runs/${trusted}/cancel`);
  });

  it("a pool group's authorization covers its pools; revocation stops new machines, cancelRunning running ones", async () => {
    await ok("POST", "/api/v1/pools", { name: "gpu-a", trust: "high", group: "gpu" });
    await startNode("g1", ["gpu"], "gpu-a");
    const repo = await addRepo("acme/train", "[self-hosted, gpu]", "sleep 120");
    const first = await trigger(repo);
    await waitsWith(first, "awaiting authorization for pool gpu-a");

    const group = await ok<Auth>("POST", "/api/v1/authorizations", { repository: repo, group: "gpu" });
    assert.equal(group.state, "approved");
    const j = await runningNow(first);
    const revoked = await ok<Auth & { cancelledJobs: number[] }>(
      "POST",
      `/api/v1/authorizations/${group.id}/revoke`,
      { cancelRunning: true },
    );
    assert.deepEqual([revoked.state, revoked.cancelledJobs], ["revoked", [j.id]]);
    assert.equal((await t.waitRun(first, 30_000)).conclusion, "cancelled");

    // The pool's own request (made on first use) is still only requested: new jobs wait.
    const second = await trigger(repo);
    await waitsWith(second, "awaiting authorization for pool gpu-a");
    const request = (await authsOf(repo)).find((a) => a.pool === "gpu-a")!;
    assert.equal(request.state, "requested");
    await ok("POST", `/api/v1/authorizations/${request.id}/approve`);
    await runningNow(second);
    // Revoked without cancelRunning: the running job goes on, a new one waits.
    const r2 = await ok<{ cancelledJobs: number[] }>(
      "POST",
      `/api/v1/authorizations/${request.id}/revoke`,
      {},
    );
    assert.deepEqual(r2.cancelledJobs, []);
    const third = await trigger(repo);
    await waitsWith(third, "awaiting authorization for pool gpu-a");
    assert.equal((await job(second))?.state, "running");
    await ok("POST", `/api/v1/runs/${second}/cancel`);
    await ok("POST", `/api/v1/runs/${third}/cancel`);
    await t.waitRun(second, 30_000);
  });

  it("a node claiming labels it was not given gets none of them", async () => {
    await startNode("claimer", ["cpu"], undefined, ["gpu-prod", "deployer", "cpu"]);
    assert.deepEqual((await nodeNamed("claimer")).labels, ["cpu"]);
    const run = await trigger(await addRepo("acme/deploy", "[self-hosted, deployer]"));
    await waitsWith(run, "no node has label `deployer` (job asks for [self-hosted, deployer])");
    const audit = await ok<Array<{ action: string; details: { ignored?: string[] } }>>(
      "GET",
      "/api/v1/audit?action=node.labels_refused",
    );
    assert.ok(audit.some((e) => e.details.ignored?.join() === "gpu-prod,deployer"));
    await ok("POST", `/api/v1/runs/${run}/cancel`);
  });
});
