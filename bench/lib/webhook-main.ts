// bench:webhook, the measurement and the report (bench/webhook.ts is the entry point).
// Each iteration: an empty commit in a local repository, a signed GitHub push delivery to the
// in-process service, and the one-step job on an in-process agent in a real sandbox with the real
// git checkout. "First step running" = the step's own first action, `date +%s%N`, read back from the
// job's stored log: the moment the step's shell runs inside the sandbox, on the host's clock.
// Baselines, interleaved with the iterations: the same job description run by the runner directly
// on a new sandbox (what `airlock run`'s machine executor does, no orchestrator), and a bare spawn.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { createAgent, memoryCredentialStore, type Agent } from "../../src/agent/index.js";
import { loadOptions } from "../../src/config/index.js";
import { ImageStore } from "../../src/images/index.js";
import { createActionLoader, createGitWorkspaceSource } from "../../src/actions/index.js";
import { HOST_ROOT, createSandboxProvisioner } from "../../src/provisioners/index.js";
import { runJobOnNewMachine, type JobDescription, type RunnerEvent } from "../../src/runner/index.js";
import { openBenchEnv, startBenchService, until, type BenchService } from "./env.js";
import { deliverPush, pushBody } from "./github.js";
import { makeBenchRepo } from "./repo.js";
import { machineLine, ms, pct, spread, table } from "./stats.js";
import { timedProvisioner, timedSource, wallNow, type AgentMarks } from "./timed.js";

const WORKFLOW = `name: CI
on:
  push:
    branches: [main]
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: date +%s%N
`;
const STAMP = /\b(1\d{18})\b/;

interface Sample {
  total: number;
  /** Durations of the stages, in order (see STAGES). */
  stages: number[];
  /** Assigned → the agent's `accepted` stored: beside the critical path (the agent goes on at once). */
  accepted: number;
}

const STAGES = [
  "webhook sent → run stored (fetch, parse, match)",
  "run stored → job queued (planner)",
  "job queued → assigned (dispatcher)",
  "assigned → machine requested (WebSocket, agent)",
  "machine requested → ready (sandbox)",
  "machine ready → checkout done (git clone + copy)",
  "checkout done → first step running (runner)",
];

export async function runWebhookBench(iterations: number, warmup: number): Promise<void> {
  const env = await openBenchEnv("airlock-bench-webhook-");
  let bs: BenchService | undefined;
  let agent: Agent | undefined;
  try {
    bs = await startBenchService(env, "service");
    const { service, api } = bs;
    const repo = makeBenchRepo(join(env.root, "repo"), { ".github/workflows/ci.yml": WORKFLOW });
    const r = await api<{ id: number; webhookSecret: string }>("POST", "/api/v1/repositories", {
      name: "bench/webhook",
      cloneUrl: repo.dir,
    });
    let marks: AgentMarks = {};
    const sandbox = createSandboxProvisioner({ baseDir: await env.dir("machines") });
    const actions = createActionLoader({
      actionsUrl: "file:///nonexistent",
      cacheDir: join(env.root, "actions"),
    });
    agent = createAgent({
      serverUrl: service.url,
      credentials: memoryCredentialStore(),
      registrationToken: await bs.addNode("node-0"),
      dataDir: await env.dir("agent"),
      provisioners: { sandbox: timedProvisioner(sandbox, () => marks) },
      actions,
      source: timedSource(createGitWorkspaceSource(), () => marks),
      // Real sandboxes run jobs on the node's default image (build it: airlock image build debian-12).
      images: new ImageStore(loadOptions().imagesDir),
      capacity: { cpus: 4, memoryMb: 8192, diskMb: 16384 },
    });
    await agent.start();
    await until(
      () => Promise.resolve(service.orchestrator.agents.connectedNodes() === 1 ? true : undefined),
      "the agent to connect",
    );

    const orchestrated: Sample[] = [];
    const local: number[] = [];
    const bare: number[] = [];
    let before = repo.head();
    for (let i = 0; i < warmup + iterations; i++) {
      const commit = repo.commit(`bench ${i}`);
      const body = pushBody({
        cloneUrl: repo.dir,
        fullName: "bench/webhook",
        commit,
        before,
        message: `bench ${i}`,
      });
      before = commit;
      marks = {};
      const sent = wallNow();
      const res = await deliverPush(service.url, r.id, r.webhookSecret, body);
      if (res.status !== 202) throw new Error(`webhook answered ${res.status}: ${await res.text()}`);
      const { runs } = (await res.json()) as { runs: Array<{ id: number }> };
      const runId = runs[0]?.id;
      if (runs.length !== 1 || runId === undefined)
        throw new Error(`expected one run, got ${JSON.stringify(runs)}`);
      const job = await until(
        async () => {
          const { rows } = await service.db.pool.query<{
            id: string;
            conclusion: string | null;
            description: JobDescription;
            run: number;
            q: number;
            a: number;
            s: number;
          }>(
            `SELECT j.id, j.conclusion, j.description, extract(epoch FROM r.created_at) * 1000 AS run,
                    extract(epoch FROM j.queued_at) * 1000 AS q, extract(epoch FROM j.assigned_at) * 1000 AS a,
                    extract(epoch FROM j.started_at) * 1000 AS s
               FROM jobs j JOIN runs r ON r.id = j.run_id WHERE j.run_id = $1 AND j.state = 'completed'`,
            [runId],
          );
          return rows[0];
        },
        `run ${runId} to complete`,
        30_000,
        10,
      );
      const log = await fetch(`${service.url}/api/v1/jobs/${job.id}/logs`, {
        headers: { authorization: `Bearer ${bs.token}` },
      }).then((x) => x.text());
      const stamp = STAMP.exec(log)?.[1];
      if (job.conclusion !== "success" || !stamp) throw new Error(`job ${job.id} ${job.conclusion}:\n${log}`);
      const step = Number(BigInt(stamp) / 1000n) / 1000;
      const m = marks;
      const points = [sent, +job.run, +job.q, +job.a, m.createStart, m.created, m.checkoutEnd, step];
      if (points.some((p) => p === undefined || !Number.isFinite(p)))
        throw new Error(`missing timestamps: ${points.join(", ")}`);
      const p = points as number[];
      const sample = {
        total: step - sent,
        stages: p.slice(1).map((t, k) => t - p[k]!),
        accepted: +job.s - +job.a,
      };
      const base = await localRun(sandbox, actions, job.description);
      const spawned = await bareSpawn();
      if (i < warmup) continue;
      orchestrated.push(sample);
      local.push(base);
      bare.push(spawned);
    }
    report(orchestrated, local, bare);
  } finally {
    await agent?.stop();
    await bs?.service.stop();
    await env.close();
  }
}

/** The same job run by the runner directly on a new sandbox: call → the step's timestamp. */
async function localRun(
  sandbox: ReturnType<typeof createSandboxProvisioner>,
  actions: ReturnType<typeof createActionLoader>,
  job: JobDescription,
): Promise<number> {
  let step: number | undefined;
  const t0 = wallNow();
  const result = await runJobOnNewMachine(sandbox, { name: "bench-local", root: HOST_ROOT }, job, {
    actions,
    source: createGitWorkspaceSource(),
    onEvent(e: RunnerEvent) {
      const s = e.type === "log" ? STAMP.exec(e.text)?.[1] : undefined;
      if (s && step === undefined) step = Number(BigInt(s) / 1000n) / 1000;
    },
  });
  if (result.conclusion !== "success" || step === undefined)
    throw new Error(`local run: ${result.conclusion}`);
  return step - t0;
}

/** The same command spawned on the host: call → its timestamp. */
function bareSpawn(): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = wallNow();
    const child = spawn("/bin/sh", ["-c", "date +%s%N"], { stdio: ["ignore", "pipe", "ignore"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.once("error", reject);
    child.once("close", () => {
      const s = STAMP.exec(out)?.[1];
      if (!s) reject(new Error(`date printed ${out}`));
      else resolve(Number(BigInt(s) / 1000n) / 1000 - t0);
    });
  });
}

function report(o: Sample[], local: number[], bare: number[]): void {
  const totals = o.map((s) => s.total);
  console.log(
    `bench:webhook — signed GitHub push webhook → first step running in a real sandbox (${o.length} runs)`,
  );
  console.log(
    `"running" = the step's first action (date +%s%N in the sandbox), read from the job's stored log`,
  );
  console.log("");
  table([
    ["", "p50", "p95", "p99"],
    ["webhook → first step (orchestrator, agent, sandbox)", ...spread(totals)],
    ["baseline: runner on a new sandbox (as airlock run)", ...spread(local)],
    ["baseline: bare spawn on the host", ...spread(bare)],
  ]);
  console.log("");
  console.log("where the time goes (per stage; p50 of the stage, so they need not add up):");
  table([
    ["", "p50", "p95", "p99", "share of mean"],
    ...STAGES.map((name, k) => {
      const xs = o.map((s) => s.stages[k]!);
      const share = xs.reduce((a, b) => a + b, 0) / totals.reduce((a, b) => a + b, 0);
      return [name, ...spread(xs), `${(share * 100).toFixed(0)} %`];
    }),
  ]);
  console.log(
    `beside the path: assigned → "accepted" stored ${spread(o.map((s) => s.accepted)).join(" / ")} (p50/p95/p99)`,
  );
  console.log("");
  const ratio = pct(totals, 50) / pct(local, 50);
  console.log(
    `ratio p50 webhook / p50 runner on a new sandbox: ${ratio.toFixed(2)} (orchestration adds ${ms(pct(totals, 50) - pct(local, 50))})`,
  );
  console.log(machineLine());
  console.log(`target p50 ≤ 100 ms: ${pct(totals, 50) <= 100 ? "met" : "NOT met"} (${ms(pct(totals, 50))})`);
}
