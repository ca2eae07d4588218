// Read-only figures for the scheduler (capacity in use, concurrency counts) and for /metrics
// (queue depth, jobs by state). Each is one aggregate query over the partial indexes.
import { run } from "./sql.js";
import type { Queryable } from "./types.js";
import { JobState } from "../orchestrator/states.js";

export interface NodeUsage {
  cpus: number;
  memoryMb: number;
  diskMb: number;
  jobs: number;
}

// A job whose flavour was deleted still counts as a job (with no size).
const NODE_USAGE = `
SELECT j.node_id, COALESCE(sum(f.cpus), 0)::float8 AS cpus, COALESCE(sum(f.memory_mb), 0)::float8 AS memory_mb,
       COALESCE(sum(f.disk_mb), 0)::float8 AS disk_mb, count(*)::int AS jobs
FROM jobs j LEFT JOIN flavours f ON f.id = j.flavour_id
WHERE j.state IN ('assigned', 'running') AND j.node_id IS NOT NULL
GROUP BY j.node_id`;

/** Resources held per node by its assigned and running jobs (nodes with none are absent). */
export async function nodeUsage(db: Queryable): Promise<Map<number, NodeUsage>> {
  const { rows } = await run<{
    node_id: string;
    cpus: number;
    memory_mb: number;
    disk_mb: number;
    jobs: number;
  }>(db, "stats.nodeUsage", NODE_USAGE, []);
  return new Map(
    rows.map((r) => [
      Number(r.node_id),
      { cpus: r.cpus, memoryMb: r.memory_mb, diskMb: r.disk_mb, jobs: r.jobs },
    ]),
  );
}

const RUNNING_COUNTS = `
SELECT r.repository_id, p.organization_id, GROUPING(r.repository_id) = 1 AS by_org, count(*)::int AS n
FROM jobs j JOIN runs r ON r.id = j.run_id JOIN repositories p ON p.id = r.repository_id
WHERE j.state IN ('assigned', 'running')
GROUP BY GROUPING SETS ((r.repository_id), (p.organization_id))`;

/** Assigned and running jobs per repository and per organization (for concurrency limits). */
export async function runningCounts(
  db: Queryable,
): Promise<{ byRepository: Map<number, number>; byOrganization: Map<number, number> }> {
  const { rows } = await run<{
    repository_id: string | null;
    organization_id: string | null;
    by_org: boolean;
    n: number;
  }>(db, "stats.runningCounts", RUNNING_COUNTS, []);
  const byRepository = new Map<number, number>();
  const byOrganization = new Map<number, number>();
  for (const r of rows) {
    if (r.by_org) byOrganization.set(Number(r.organization_id), r.n);
    else byRepository.set(Number(r.repository_id), r.n);
  }
  return { byRepository, byOrganization };
}

export async function queueDepth(db: Queryable): Promise<number> {
  const { rows } = await run<{ n: number }>(
    db,
    "stats.depth",
    "SELECT count(*)::int AS n FROM jobs WHERE state = 'queued'",
    [],
  );
  return rows[0]?.n ?? 0;
}

/** Job count per state, every state present (0 when none). */
export async function jobsByState(db: Queryable): Promise<Record<string, number>> {
  const { rows } = await run<{ state: string; n: number }>(
    db,
    "stats.byState",
    "SELECT state, count(*)::int AS n FROM jobs GROUP BY state",
    [],
  );
  const out: Record<string, number> = Object.fromEntries(Object.values(JobState).map((s) => [s, 0]));
  for (const r of rows) out[r.state] = r.n;
  return out;
}
