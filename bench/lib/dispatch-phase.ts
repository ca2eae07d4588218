// One measured phase of bench:dispatch: the real service in-process, N in-process agents on real
// WebSocket connections with the fake provisioner, and J trivial jobs queued by real runs (one
// push triggers ceil(J/250) workflows, each a matrix of up to 250 instances: the run drivers enqueue
// every instance, the dispatcher places and assigns them, agents accept them). The figures come
// from the jobs' own timestamps: queued_at (enqueue) → assigned_at (dispatch) → started_at
// (the agent's `accepted` handled by the agent hub).
import { join } from "node:path";
import { forkAgents, hostAgents, type AgentsHost } from "./agents.js";
import type { ServerConfig } from "../../src/server/index.js";
import { startBenchService, until, type BenchEnv } from "./env.js";
import { makeBenchRepo } from "./repo.js";
import type { WindowProfiler } from "./profile.js";
import type { QueryCensus } from "./query-count.js";

export const MATRIX_MAX = 250;

export interface JobTimes {
  queued: number;
  assigned: number;
  started: number;
}

export interface PhaseResult {
  label: string;
  jobs: number;
  agents: number;
  /** Trigger request sent → last job accepted. */
  wallMs: number;
  /** First job queued → last job accepted (throughput is jobs / this). */
  spanMs: number;
  /** Trigger request sent → every run completed (jobs finished and reported too). */
  completedMs: number;
  /** Database transactions (statements outside BEGIN count one each) from trigger to completion. */
  transactions: number;
  /** Statements sent by this process, by kind (with AIRLOCK_BENCH_COUNT_QUERIES=1). */
  census?: Array<[string, number]>;
  times: JobTimes[];
  /** The database and the description of one job, for the raw-SQL baseline. */
  databaseUrl: string;
}

/** Workflows for `jobs` trivial jobs: one skipped step (`if: false`), so no process is spawned. */
export function benchWorkflows(jobs: number, on: string, prefix: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (let w = 0, left = jobs; left > 0; w++, left -= MATRIX_MAX) {
    const n = Math.min(MATRIX_MAX, left);
    files[`.github/workflows/${prefix}${w}.yml`] = `name: ${prefix}${w}
on: ${on}
jobs:
  t:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        i: [${Array.from({ length: n }, (_, i) => i).join(", ")}]
    steps:
      - if: \${{ false }}
        run: "true"
`;
  }
  return files;
}

export async function dispatchPhase(
  env: BenchEnv,
  o: {
    label: string;
    jobs: number;
    agents: number;
    warmup: number;
    overrides?: Partial<ServerConfig>;
    profiler?: WindowProfiler;
    census?: QueryCensus | undefined;
    /** Host the agents in this process instead of a child process. */
    inProcess?: boolean;
  },
): Promise<PhaseResult> {
  const name = o.label.replace(/\W+/g, "-");
  const bs = await startBenchService(env, name, o.overrides);
  let agents: AgentsHost | undefined;
  try {
    const { service, api } = bs;
    const repo = makeBenchRepo(join(env.root, `${name}-repo`), {
      ...benchWorkflows(o.jobs, "push", "bench"),
      ...benchWorkflows(o.warmup, "workflow_dispatch", "warm"),
    });
    const r = await api<{ id: number }>("POST", "/api/v1/repositories", {
      name: "bench/dispatch",
      cloneUrl: repo.dir,
    });
    const tokens: string[] = [];
    for (let i = 0; i < o.agents; i++) tokens.push(await bs.addNode(`node-${i}`));
    // Every job fits at once: each agent holds its share of the jobs and one more.
    const spec = {
      serverUrl: service.url,
      tokens,
      dataDir: await env.dir(`${name}-agents`),
      slots: Math.ceil(o.jobs / o.agents) + 1,
    };
    agents = o.inProcess ? await hostAgents(spec) : await forkAgents(spec);
    await until(
      () => Promise.resolve(service.orchestrator.agents.connectedNodes() === o.agents ? true : undefined),
      "agents to connect",
    );
    const waitRuns = async (ids: number[]): Promise<void> => {
      await until(
        async () => {
          const { rows } = await service.db.pool.query<{ n: string }>(
            `SELECT count(*) AS n FROM runs WHERE id = ANY($1::bigint[]) AND state <> 'completed'`,
            [ids],
          );
          return rows[0]?.n === "0" ? true : undefined;
        },
        "runs to complete",
        120_000,
        25,
      );
    };
    if (o.warmup > 0) {
      const { runs: warm } = await api<{ runs: Array<{ id: number }> }>(
        "POST",
        `/api/v1/repositories/${r.id}/runs`,
        {
          event: "workflow_dispatch",
        },
      );
      await waitRuns(warm.map((w) => w.id));
    }
    const xacts = async (): Promise<number> => {
      // Statistics reach pg_stat_database when backends go idle, at most once a second.
      await new Promise((res) => setTimeout(res, 1100));
      const { rows } = await service.db.pool.query<{ n: string }>(
        `SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()`,
      );
      return Number(rows[0]?.n);
    };
    const xactsBefore = await xacts();
    await o.profiler?.start();
    o.census?.start();
    const t0 = Date.now();
    const { runs } = await api<{ runs: Array<{ id: number }> }>("POST", `/api/v1/repositories/${r.id}/runs`, {
      event: "push",
    });
    const ids = runs.map((x) => x.id);
    await waitRuns(ids);
    const completedMs = Date.now() - t0;
    await o.profiler?.stop();
    const census = o.census?.stop();
    const transactions = (await xacts()) - xactsBefore;
    const { rows } = await service.db.pool.query<{ q: number; a: number; s: number }>(
      `SELECT extract(epoch FROM queued_at) * 1000 AS q, extract(epoch FROM assigned_at) * 1000 AS a,
              extract(epoch FROM started_at) * 1000 AS s
         FROM jobs WHERE run_id = ANY($1::bigint[])`,
      [ids],
    );
    const times = rows.map((x) => ({ queued: Number(x.q), assigned: Number(x.a), started: Number(x.s) }));
    if (times.length !== o.jobs || times.some((t) => !Number.isFinite(t.started))) {
      throw new Error(`${o.label}: expected ${o.jobs} accepted jobs, found ${times.length}`);
    }
    const first = Math.min(...times.map((t) => t.queued));
    const last = Math.max(...times.map((t) => t.started));
    return {
      label: o.label,
      jobs: o.jobs,
      agents: o.agents,
      wallMs: last - t0,
      spanMs: last - first,
      completedMs,
      transactions,
      ...(census ? { census } : {}),
      times,
      databaseUrl: service.db.url,
    };
  } finally {
    await agents?.stop();
    await bs.service.stop();
  }
}
