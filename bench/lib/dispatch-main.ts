// bench:dispatch, the measurement and the report (bench/dispatch.ts is the entry point).
import { dispatchPhase, type JobTimes } from "./dispatch-phase.js";
import { openBenchEnv } from "./env.js";
import { rawQueueBaseline } from "./raw-queue.js";
import { machineLine, ms, spread, table } from "./stats.js";
import { windowProfiler } from "./profile.js";
import { queryCensus } from "./query-count.js";

export interface DispatchArgs {
  jobs: number;
  agents: number;
  warmup: number;
  /** ServerConfig.dispatchBatch (default: the server's). */
  batch: number | undefined;
  singleAgent: boolean;
  /** Agents in the orchestrator's process (default: in a child process). */
  inProcess: boolean;
}

export function parseArgs(argv: string[]): DispatchArgs {
  const a: DispatchArgs = {
    jobs: 1000,
    agents: 50,
    warmup: 100,
    batch: undefined,
    singleAgent: true,
    inProcess: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    switch (argv[i]) {
      case "--jobs":
        a.jobs = Number(v);
        i++;
        break;
      case "--agents":
        a.agents = Number(v);
        i++;
        break;
      case "--warmup":
        a.warmup = Number(v);
        i++;
        break;
      case "--batch":
        a.batch = Number(v);
        i++;
        break;
      case "--in-process":
        a.inProcess = true;
        break;
      case "--no-single":
        a.singleAgent = false;
        break;
      default:
        throw new Error(
          `unknown argument ${argv[i]}; use --jobs N --agents N --warmup N --batch N --no-single --in-process`,
        );
    }
  }
  return a;
}

const rate = (jobs: number, spanMs: number): string => `${((jobs / spanMs) * 1000).toFixed(0)} jobs/s`;

function row(
  label: string,
  agents: number | string,
  jobs: number,
  wallMs: number | undefined,
  spanMs: number,
  t: JobTimes[],
): string[] {
  return [
    label,
    String(agents),
    String(jobs),
    wallMs === undefined ? "-" : ms(wallMs),
    ms(spanMs),
    rate(jobs, spanMs),
    ...spread(t.map((x) => x.started - x.queued)),
  ];
}

export async function runDispatchBench(a: DispatchArgs): Promise<void> {
  const env = await openBenchEnv("airlock-bench-dispatch-");
  try {
    const overrides = a.batch === undefined ? {} : { dispatchBatch: a.batch };
    const main = await dispatchPhase(env, {
      label: `${a.agents} agents`,
      jobs: a.jobs,
      agents: a.agents,
      warmup: a.warmup,
      overrides,
      inProcess: a.inProcess,
      profiler: windowProfiler(),
      census: queryCensus(),
    });
    const single = a.singleAgent
      ? await dispatchPhase(env, {
          label: "1 agent",
          jobs: a.jobs,
          agents: 1,
          warmup: a.warmup,
          overrides,
          inProcess: a.inProcess,
        })
      : undefined;
    const raw = await rawQueueBaseline(main.databaseUrl, a.jobs, { poolSize: 10, batch: a.batch ?? 100 });

    console.log(
      `bench:dispatch — ${a.jobs} trivial jobs (one skipped step), fake provisioner, real WebSockets`,
    );
    console.log(
      `latency = jobs.queued_at → jobs.started_at (the agent's "accepted" stored); throughput = jobs / (last accepted − first queued)`,
    );
    console.log("");
    const rows: string[][] = [["", "agents", "jobs", "wall", "span", "throughput", "p50", "p95", "p99"]];
    rows.push(row(main.label, main.agents, main.jobs, main.wallMs, main.spanMs, main.times));
    if (single) rows.push(row(single.label, 1, single.jobs, single.wallMs, single.spanMs, single.times));
    rows.push(row("raw queue SQL (baseline)", "-", a.jobs, undefined, raw.spanMs, raw.times));
    table(rows);
    console.log("");
    console.log(`where the latency goes (${main.label}):`);
    table([
      ["", "p50", "p95", "p99"],
      ["queued → assigned (dispatcher)", ...spread(main.times.map((t) => t.assigned - t.queued))],
      [
        "assigned → accepted (WebSocket, agent, hub)",
        ...spread(main.times.map((t) => t.started - t.assigned)),
      ],
    ]);
    console.log("");
    console.log(
      `wall = trigger request sent → last job accepted; all ${a.jobs} jobs finished and reported ${ms(main.completedMs)} after the trigger`,
    );
    const thr = (main.jobs / main.spanMs) * 1000;
    const base = (a.jobs / raw.spanMs) * 1000;
    const queued = main.times.map((t) => t.queued);
    const enqueueSpan = Math.max(...queued) - Math.min(...queued);
    const rounds = new Set(main.times.map((t) => t.assigned)).size;
    console.log(
      `enqueue: first → last job queued ${ms(enqueueSpan)} (${rate(main.jobs, enqueueSpan)}); ` +
        `dispatch: ${rounds} rounds that assigned jobs (mean ${(main.jobs / rounds).toFixed(0)} jobs per round)`,
    );
    console.log(
      `database transactions from trigger to completion: ${main.transactions} (${(main.transactions / main.jobs).toFixed(1)} per job)`,
    );
    console.log(`ratio throughput ${main.label} / raw queue SQL: ${(thr / base).toFixed(2)}`);
    if (single)
      console.log(
        `ratio throughput ${main.label} / 1 agent: ${(thr / ((single.jobs / single.spanMs) * 1000)).toFixed(2)}`,
      );
    if (main.census) {
      console.log(`statements sent by the orchestrator's process, per job (${main.label}):`);
      for (const [q, n] of main.census.slice(0, 20))
        console.log(`  ${(n / main.jobs).toFixed(2).padStart(6)}  ${q}`);
    }
    console.log(machineLine());
    console.log(`target ≥ 500 jobs/s: ${thr >= 500 ? "met" : "NOT met"} (${thr.toFixed(0)} jobs/s)`);
  } finally {
    await env.close();
  }
}
