// bench:control, the measurement and the report.
// 1. Log follow latency: a job in a real sandbox prints 100 lines, each carrying the time it was
//    printed (`date +%s%N`, host clock); a follower on the SSE stream notes when each arrives.
//    Baseline in the same run: the same job run by the runner directly, the line noted when the
//    runner's own log event reaches its caller (no agent, WebSocket, database or HTTP).
// 2. Cancel → machine gone: a job running `sleep` under a unique name is cancelled over the API; the
//    time until no process of that name is left on the host. Baseline: destroying the same kind of
//    machine directly (`machine.destroy()`).
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { createAgent, memoryCredentialStore, type Agent } from "../../src/agent/index.js";
import { loadOptions } from "../../src/config/index.js";
import { ImageStore } from "../../src/images/index.js";
import { createActionLoader, createGitWorkspaceSource } from "../../src/actions/index.js";
import { HOST_ROOT, createSandboxProvisioner } from "../../src/provisioners/index.js";
import { runJobOnNewMachine, type JobDescription } from "../../src/runner/index.js";
import { openBenchEnv, startBenchService, until } from "./env.js";
import { makeBenchRepo } from "./repo.js";
import { machineLine, ms, pct, table } from "./stats.js";
import { wallNow } from "./timed.js";

const LINES = 100;
const TALK = `name: talk
on: push
jobs:
  talk:
    runs-on: ubuntu-latest
    steps:
      - run: for i in $(seq 1 ${LINES}); do echo "stamp $(date +%s%N)"; sleep 0.02; done
`;
const STAMP = /stamp (\d{19})/g;

interface RunView {
  state: string;
  jobs: Array<{ id: number; state: string; description?: unknown }>;
}

export async function runControlBench(cancels: number): Promise<void> {
  const env = await openBenchEnv("airlock-bench-control-");
  let agent: Agent | undefined;
  let stop: (() => Promise<void>) | undefined;
  try {
    const b = await startBenchService(env, "service");
    stop = () => b.service.stop();
    const token = await b.addNode("bench");
    const options = { actionsUrl: "file:///nonexistent", cacheDir: await env.dir("actions") };
    const provisioner = createSandboxProvisioner();
    agent = createAgent({
      serverUrl: b.service.url,
      credentials: memoryCredentialStore(),
      registrationToken: token,
      dataDir: await env.dir("agent"),
      provisioners: { sandbox: provisioner },
      actions: createActionLoader(options),
      source: createGitWorkspaceSource(),
      // Real sandboxes run jobs on the node's default image (build it: airlock image build debian-12).
      images: new ImageStore(loadOptions().imagesDir),
      capacity: { cpus: 4, memoryMb: 8192, diskMb: 16384 },
      backoff: { minMs: 20, maxMs: 200 },
    });
    await agent.start();

    // 1. Log follow latency.
    const talk = makeBenchRepo(join(env.root, "talk"), { ".github/workflows/ci.yml": TALK });
    const repo = await b.api<{ id: number }>("POST", "/api/v1/repositories", {
      name: "bench/talk",
      cloneUrl: talk.dir,
    });
    const { runs } = await b.api<{ runs: Array<{ id: number }> }>(
      "POST",
      `/api/v1/repositories/${repo.id}/runs`,
      {},
    );
    const runId = runs[0]?.id ?? -1;
    const jobId = await until(
      async () => (await b.api<RunView>("GET", `/api/v1/runs/${runId}`)).jobs[0]?.id,
      "the job",
    );
    const follow: number[] = [];
    const res = await fetch(`${b.service.url}/api/v1/jobs/${jobId}/logs/stream`, {
      headers: { authorization: `Bearer ${b.token}` },
    });
    const reader = res.body?.getReader();
    const decoder = new TextDecoder();
    let buffered = "";
    for (;;) {
      const chunk = await reader?.read();
      if (!chunk || chunk.done) break;
      const now = wallNow();
      buffered += decoder.decode(chunk.value, { stream: true });
      for (const m of buffered.matchAll(STAMP)) follow.push(now - Number(m[1]) / 1e6);
      buffered = buffered.slice(buffered.lastIndexOf("\n") + 1);
    }
    const description = await jobDescription(b, jobId);
    const direct: number[] = [];
    await runJobOnNewMachine(provisioner, { name: "direct", root: HOST_ROOT }, description, {
      actions: createActionLoader(options),
      source: createGitWorkspaceSource(),
      onEvent: (e) => {
        const now = wallNow();
        if (e.type === "log") for (const m of e.text.matchAll(STAMP)) direct.push(now - Number(m[1]) / 1e6);
      },
    });

    // 2. Cancel → every process of the machine gone.
    const cancelTimes: number[] = [];
    const destroyTimes: number[] = [];
    for (let i = 0; i < cancels; i++) {
      const marker = `airlock-bench-cancel-${process.pid}-${i}`;
      const long = makeBenchRepo(join(env.root, `long-${i}`), {
        ".github/workflows/ci.yml": `on: push\njobs:\n  long:\n    runs-on: ubuntu-latest\n    steps:\n      - run: bash -c 'exec -a ${marker} sleep 600'\n`,
      });
      const r = await b.api<{ id: number }>("POST", "/api/v1/repositories", {
        name: `bench/long-${i}`,
        cloneUrl: long.dir,
      });
      const started = await b.api<{ runs: Array<{ id: number }> }>(
        "POST",
        `/api/v1/repositories/${r.id}/runs`,
        {},
      );
      await until(() => Promise.resolve(alive(marker) ? true : undefined), "the sleep to start", 60_000, 10);
      const t0 = wallNow();
      await b.api("POST", `/api/v1/runs/${started.runs[0]?.id}/cancel`);
      await until(() => Promise.resolve(alive(marker) ? undefined : true), "the machine to go", 10_000, 2);
      cancelTimes.push(wallNow() - t0);

      const m = await provisioner.create({ name: "destroy", root: HOST_ROOT });
      const h = m.exec({
        argv: ["bash", "-c", `exec -a ${marker}-d sleep 600`],
        env: { PATH: "/usr/bin:/bin" },
        cwd: m.paths.workspace,
      });
      await until(
        () => Promise.resolve(alive(`${marker}-d`) ? true : undefined),
        "the direct sleep",
        10_000,
        5,
      );
      const t1 = wallNow();
      await m.destroy();
      await until(
        () => Promise.resolve(alive(`${marker}-d`) ? undefined : true),
        "the direct machine to go",
        10_000,
        2,
      );
      destroyTimes.push(wallNow() - t1);
      await h.wait();
    }

    console.log("bench:control — log follow latency and cancel → machine gone\n");
    table([
      ["", "n", "p50", "p95", "p99", "max"],
      row("log line printed → SSE follower (orchestrator)", follow),
      row("baseline: printed → runner event (no orchestrator)", direct),
      row("cancel API call → no process of the job left", cancelTimes),
      row("baseline: machine.destroy() → no process left", destroyTimes),
    ]);
    console.log(`\nratio p50 follower / runner event: ${(pct(follow, 50) / pct(direct, 50)).toFixed(2)}`);
    console.log(`ratio p50 cancel / destroy: ${(pct(cancelTimes, 50) / pct(destroyTimes, 50)).toFixed(2)}`);
    console.log(
      `targets: follower < 100 ms (p99 ${ms(pct(follow, 99))}); cancel < 1 s (max ${ms(Math.max(...cancelTimes))})`,
    );
    console.log(machineLine());
  } finally {
    await agent?.stop();
    await stop?.();
    await env.close();
  }
}

function row(name: string, xs: number[]): Array<string | number> {
  return [name, xs.length, ms(pct(xs, 50)), ms(pct(xs, 95)), ms(pct(xs, 99)), ms(Math.max(...xs))];
}

function alive(marker: string): boolean {
  return execFileSync("ps", ["-eo", "args"], { encoding: "utf8" })
    .split("\n")
    .some((l) => l.startsWith(marker));
}

async function jobDescription(
  b: {
    service: {
      db: {
        pool: {
          query: (q: string, p: unknown[]) => Promise<{ rows: Array<{ description: JobDescription }> }>;
        };
      };
    };
  },
  jobId: number,
): Promise<JobDescription> {
  const { rows } = await b.service.db.pool.query(`SELECT description FROM jobs WHERE id = $1`, [jobId]);
  const d = rows[0]?.description;
  if (!d) throw new Error("no job description");
  return d;
}
