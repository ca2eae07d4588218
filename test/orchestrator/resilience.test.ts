// Resilience, with real processes: an agent killed with SIGKILL mid-job (the job is retried on
// another node), and the orchestrator killed mid-job and restarted (the job completes with its
// full log: every line once, in order).
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";
import { pino } from "pino";
import { airlockBin, makeRepo, type TempRepo } from "../helpers/repo.js";
import { eventually, startTestService, type RunView } from "../helpers/service.js";
import { createTestDatabase } from "../helpers/db.js";
import { createAgent, fileCredentialStore } from "../../src/agent/index.js";
import { loadOptions } from "../../src/config/index.js";
import { ImageStore } from "../../src/images/index.js";
import { createActionLoader, createGitWorkspaceSource } from "../../src/actions/index.js";
import { createSandboxProvisioner } from "../../src/provisioners/index.js";

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

function spawnAirlock(args: string[], env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [airlockBin, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  return child;
}

function output(child: ChildProcess): () => string {
  let text = "";
  child.stdout?.on("data", (d: Buffer) => (text += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (text += d.toString()));
  return () => text;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function repoWith(workflow: string): TempRepo {
  const repo = makeRepo({ ".github/workflows/ci.yml": workflow });
  cleanups.push(() => repo.remove());
  return repo;
}

const marker = `airlock-retry-${process.pid}`;

describe("resilience", () => {
  it("retries a job on another node when its agent is killed with SIGKILL", async () => {
    const t = await startTestService({ leaseMs: 2000, heartbeatMs: 400 });
    cleanups.push(() => t.stop());
    const repo = repoWith(`on: push
jobs:
  slow:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo "attempt started"
          bash -c 'exec -a ${marker} sleep 4'
      - run: echo "finished"
`);
    const tokenA = await t.addNode("node-a");
    const tokenB = await t.addNode("node-b");
    const dataA = await mkdtemp(join(tmpdir(), "airlock-agent-a-"));
    cleanups.push(() => rm(dataA, { recursive: true, force: true }));
    const agentA = spawnAirlock(["agent", "--server", t.service.url, "--data-dir", dataA], {
      AIRLOCK_REGISTRATION_TOKEN: tokenA,
    });
    const agentLog = output(agentA);
    const repoRes = await t.api<{ id: number }>("POST", "/api/v1/repositories", {
      name: "acme/slow",
      cloneUrl: repo.dir,
    });
    const trig = await t.api<{ runs: Array<{ id: number }> }>(
      "POST",
      `/api/v1/repositories/${repoRes.body.id}/runs`,
      {},
    );
    assert.equal(trig.status, 201, trig.text);
    const runId = trig.body.runs[0]?.id ?? -1;
    const job = await eventually(async () => {
      const r = await t.api<RunView>("GET", `/api/v1/runs/${runId}`);
      const j = r.body.jobs?.[0];
      return j && j.state === "running" && j.node === "node-a" ? j : undefined;
    }, `the job running on node-a (agent output: ${agentLog()})`);
    await eventually(
      async () =>
        (await t.api("GET", `/api/v1/jobs/${job.id}/logs`)).text.includes("attempt started")
          ? true
          : undefined,
      "the first attempt's output",
    );
    agentA.kill("SIGKILL");
    await t.startAgent(tokenB);
    const run = await t.waitRun(runId);
    const final = run.jobs[0];
    assert.equal(run.conclusion, "success", JSON.stringify(run));
    assert.equal(final?.node, "node-b");
    assert.equal(final?.attempt, 2);
    const log = (await t.api("GET", `/api/v1/jobs/${job.id}/logs`)).text;
    assert.ok(log.includes("finished"), log);
    const ps = await import("node:child_process").then((m) =>
      m.execFileSync("ps", ["-eo", "args"], { encoding: "utf8" }),
    );
    assert.ok(
      !ps.split("\n").some((l) => l.startsWith(marker)),
      "a process of the killed agent's machine survived",
    );
  });

  it("completes a job with its full log when the orchestrator is killed and restarted mid-job", async () => {
    const db = await createTestDatabase();
    cleanups.push(() => db.drop());
    const dataDir = await mkdtemp(join(tmpdir(), "airlock-server-"));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const port = await freePort();
    const env = {
      AIRLOCK_DATABASE_URL: db.url,
      AIRLOCK_DATA_DIR: dataDir,
      AIRLOCK_PORT: String(port),
      AIRLOCK_LEASE_MS: "20000",
      AIRLOCK_HEARTBEAT_MS: "300",
      AIRLOCK_LOG_LEVEL: "warn",
      HOME: dataDir,
    };
    const url = `http://127.0.0.1:${port}`;
    let server = spawnAirlock(["server"], env);
    let serverOut = output(server);
    const token = await eventually(
      () => Promise.resolve(/alk_pat_[A-Za-z0-9_]+/.exec(serverOut())?.[0]),
      "the CLI token of admin on the first start",
    );
    const api = async <T>(
      method: string,
      path: string,
      body?: unknown,
    ): Promise<{ status: number; body: T; text: string }> => {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body ? { "content-type": "application/json" } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return {
        status: res.status,
        body: (text.startsWith("{") || text.startsWith("[") ? JSON.parse(text) : undefined) as T,
        text,
      };
    };
    const repo = repoWith(`on: push
jobs:
  count:
    runs-on: ubuntu-latest
    steps:
      - run: for i in $(seq 1 40); do echo "line $i"; sleep 0.1; done
`);
    const node = await api<{ token: string }>("POST", "/api/v1/nodes/registrations", { name: "node-r" });
    assert.equal(node.status, 201, node.text);
    const agentDir = await mkdtemp(join(tmpdir(), "airlock-agent-r-"));
    cleanups.push(() => rm(agentDir, { recursive: true, force: true }));
    const agent = createAgent({
      serverUrl: url,
      credentials: fileCredentialStore(join(agentDir, "node-credential")),
      registrationToken: node.body.token,
      dataDir: agentDir,
      provisioners: { sandbox: createSandboxProvisioner() },
      actions: createActionLoader({ actionsUrl: "file:///nonexistent", cacheDir: join(agentDir, "actions") }),
      source: createGitWorkspaceSource(),
      images: new ImageStore(loadOptions().imagesDir),
      capacity: { cpus: 2, memoryMb: 4096, diskMb: 8192 },
      log: pino({ level: "silent" }),
      backoff: { minMs: 50, maxMs: 300 },
    });
    await agent.start();
    cleanups.push(() => agent.stop());
    const r = await api<{ id: number }>("POST", "/api/v1/repositories", {
      name: "acme/count",
      cloneUrl: repo.dir,
    });
    const trig = await api<{ runs: Array<{ id: number }> }>(
      "POST",
      `/api/v1/repositories/${r.body.id}/runs`,
      {},
    );
    const runId = trig.body.runs[0]?.id ?? -1;
    const jobId = await eventually(async () => {
      const run = await api<RunView>("GET", `/api/v1/runs/${runId}`);
      const j = run.body.jobs?.[0];
      if (!j) return undefined;
      const log = await api<string>("GET", `/api/v1/jobs/${j.id}/logs`);
      return log.text.includes("line 5\n") ? j.id : undefined;
    }, "line 5 of the job's log");

    server.kill("SIGKILL");
    await new Promise((res) => server.once("exit", res));
    await new Promise((res) => setTimeout(res, 700)); // the job goes on while the orchestrator is down
    server = spawnAirlock(["server"], env);
    serverOut = output(server);

    const run = await eventually(
      async () => {
        const res = await api<RunView>("GET", `/api/v1/runs/${runId}`).catch(() => undefined);
        return res?.body?.state === "completed" ? res.body : undefined;
      },
      `the run to complete after the restart (server: ${serverOut()})`,
      60_000,
    );
    assert.equal(run.conclusion, "success", JSON.stringify(run));
    const log = (await api<string>("GET", `/api/v1/jobs/${jobId}/logs`)).text;
    const lines = log
      .split("\n")
      .filter((l) => /\| line \d+$/.test(l))
      .map((l) => Number(/line (\d+)$/.exec(l)?.[1]));
    assert.deepEqual(
      lines,
      Array.from({ length: 40 }, (_, i) => i + 1),
      log,
    );
    server.kill("SIGTERM");
    await new Promise((res) => server.once("exit", res));
  });
});
