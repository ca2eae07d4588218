// A node agent stopping gracefully (what `airlock agent` does on the first SIGTERM: agent.drain())
// against the real orchestrator, a real agent (fake provisioner: host processes), real PostgreSQL
// and real git repositories. Job A runs until the test creates the file its step waits for, so
// every state is reached by the test's own actions, never by a clock.
// Covered: the draining node shows as such in the nodes list and gets no new job (job B queued
// meanwhile waits, saying why), A finishes and its result and log are recorded before drain()
// resolves; the same node reconnecting without draining then runs B.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeRepo, type TempRepo } from "../helpers/repo.js";
import {
  addRepository,
  eventually,
  startTestService,
  triggerRuns,
  type RunView,
  type TestService,
} from "../helpers/service.js";

let t: TestService;
let gates: string;
let agentDir: string;
const repos: TempRepo[] = [];

interface NodeRow {
  name: string;
  enabled: boolean;
  connected: boolean;
  draining: boolean;
  running: number;
}

async function addRepo(name: string, workflow: string): Promise<number> {
  const repo = makeRepo({ ".github/workflows/ci.yml": workflow });
  repos.push(repo);
  return addRepository(t, name, repo.dir);
}

async function trigger(repoId: number): Promise<number> {
  const runs = await triggerRuns(t, repoId);
  assert.equal(runs.length, 1);
  return runs[0]!;
}

async function run(runId: number): Promise<RunView> {
  const r = await t.api<RunView>("GET", `/api/v1/runs/${runId}`);
  assert.equal(r.status, 200, r.text);
  return r.body;
}

async function node(name: string): Promise<NodeRow> {
  const r = await t.api<NodeRow[]>("GET", "/api/v1/nodes");
  assert.equal(r.status, 200, r.text);
  const n = r.body.find((x) => x.name === name);
  assert.ok(n, `node ${name} listed: ${r.text}`);
  return n;
}

before(async () => {
  t = await startTestService();
  gates = mkdtempSync(join(tmpdir(), "airlock-gates-"));
  agentDir = mkdtempSync(join(tmpdir(), "airlock-agent-"));
});

after(async () => {
  await t?.stop();
  for (const r of repos) r.remove();
  if (gates) rmSync(gates, { recursive: true, force: true });
  if (agentDir) rmSync(agentDir, { recursive: true, force: true });
});

describe("a node agent stopping gracefully", () => {
  it("takes no new job, finishes and delivers the running one, and its node runs the queued job once back", async () => {
    const gate = join(gates, "release-a");
    const repoA = await addRepo(
      "acme/long",
      [
        "on: push",
        "jobs:",
        "  long:",
        "    runs-on: ubuntu-latest",
        "    steps:",
        `      - run: while [ ! -e "$GATE" ]; do sleep 0.1; done; echo "a finished its work"`,
        "        env:",
        `          GATE: ${gate}`,
        "",
      ].join("\n"),
    );
    const repoB = await addRepo(
      "acme/short",
      [
        "on: push",
        "jobs:",
        "  short:",
        "    runs-on: ubuntu-latest",
        "    steps:",
        "      - run: echo b ran",
        "",
      ].join("\n"),
    );
    // The credential lands in agentDir: the same node can come back after it has stopped.
    const token = await t.addNode("worker");
    const agent = await t.startAgent(token, { fake: true, dataDir: agentDir });

    const runA = await trigger(repoA);
    const jobA = await eventually(
      async () => (await run(runA)).jobs.find((j) => j.state === "running"),
      `job A of run ${runA} running`,
      60_000,
    );
    assert.equal(jobA.node, "worker");
    assert.equal(
      (await node("worker")).draining,
      false,
      "a node whose agent is not stopping is not draining",
    );

    // What `airlock agent` does on the first SIGTERM.
    let drained = false;
    const draining = agent.drain().then(() => {
      drained = true;
    });
    const listed = await eventually(async () => {
      const n = await node("worker");
      return n.draining ? n : undefined;
    }, "the nodes list to show worker draining");
    assert.equal(listed.enabled, true, "draining is not the administrator's disable");
    assert.equal(listed.connected, true, "a draining agent stays connected while its job runs");

    const runB = await trigger(repoB);
    const waiting = await eventually(async () => {
      const j = (await run(runB)).jobs[0];
      return j?.waitReason ? j : undefined;
    }, `job B of run ${runB} to say why it waits`);
    assert.equal(waiting.state, "queued");
    assert.equal(waiting.node, null);
    assert.equal(
      waiting.waitReason,
      "node `worker` is stopping: it finishes its running jobs and takes no new ones",
    );
    assert.deepEqual(
      agent.runningJobs().map((r) => r.jobId),
      [jobA.id],
      "the draining agent runs only job A",
    );
    assert.equal(drained, false, "drain() waits for the running job");
    assert.equal((await run(runA)).jobs[0]?.state, "running");

    writeFileSync(gate, "");
    await draining;
    // drain() resolved only once A's result was acknowledged, and the orchestrator acknowledges a
    // result after storing it: job A's result and log are recorded already, no waiting.
    const recorded = (await run(runA)).jobs[0];
    assert.ok(recorded, "job A is listed");
    assert.equal(recorded.state, "completed");
    assert.equal(recorded.conclusion, "success");
    assert.ok(recorded.steps.length > 0, "A's steps are recorded");
    assert.deepEqual(
      recorded.steps.map((s) => s.conclusion),
      recorded.steps.map(() => "success"),
    );
    const logA = await t.api("GET", `/api/v1/jobs/${jobA.id}/logs`);
    assert.match(logA.text, /a finished its work/);
    assert.equal(agent.status().connected, false, "the stopped agent is disconnected");
    // The run's own conclusion follows from its jobs' (the run driver, after the job is stored).
    assert.equal((await t.waitRun(runA)).conclusion, "success");

    const stillQueued = (await run(runB)).jobs[0];
    assert.equal(stillQueued?.state, "queued", "nothing ran B while the node was away");

    // The same node comes back (its saved credential, no registration token needed) and is not draining.
    const back = await t.startAgent("used-up", { fake: true, dataDir: agentDir });
    const doneB = await t.waitRun(runB);
    assert.equal(doneB.conclusion, "success");
    assert.equal(doneB.jobs[0]?.node, "worker");
    assert.equal(doneB.jobs[0]?.conclusion, "success");
    const logB = await t.api("GET", `/api/v1/jobs/${doneB.jobs[0]?.id}/logs`);
    assert.match(logB.text, /b ran/);
    assert.equal((await node("worker")).draining, false, "a new connection starts afresh");
    await back.stop();
  });
});
