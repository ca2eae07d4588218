// Cheap aggregate queries behind the Prometheus gauges, run on every scrape, and the web UI's dashboard.
import type { Db } from "../catalog/index.js";

export interface QueueStats {
  queueDepth: number;
  jobsByState: Record<string, number>;
}

export async function queueStats(db: Db): Promise<QueueStats> {
  const { rows } = await db.query<{ state: string; n: string }>(
    "SELECT state, count(*) AS n FROM jobs GROUP BY state",
  );
  const jobsByState = Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
  return { queueDepth: jobsByState.queued ?? 0, jobsByState };
}

export async function databaseUp(db: Db): Promise<boolean> {
  try {
    await db.query("SELECT 1");
    return true;
  } catch {
    return false;
  }
}

/** The figures of the web UI's dashboard (GET /dashboard): what /metrics has, and a little more. */
export interface DashboardStats extends QueueStats {
  runsByState: Record<string, number>;
  /** Nodes not revoked: whether connected, accepting work, and their size. */
  nodes: Array<{ id: number; connected: boolean; enabled: boolean; cpus: number; memoryMb: number }>;
  /** Resources held by assigned and running jobs, summed over the nodes. */
  used: { cpus: number; memoryMb: number; jobs: number };
}

export async function dashboardStats(db: Db): Promise<DashboardStats> {
  const queue = await queueStats(db);
  const runs = await db.query<{ state: string; n: string }>(
    "SELECT state, count(*) AS n FROM runs GROUP BY state",
  );
  const nodes = await db.query<{
    id: string;
    connected: boolean;
    enabled: boolean;
    cpus: string;
    memory_mb: number;
  }>("SELECT id, connected, enabled, cpus, memory_mb FROM nodes WHERE revoked_at IS NULL ORDER BY id");
  const used = await db.query<{ cpus: number; memory_mb: number; jobs: number }>(
    `SELECT COALESCE(sum(f.cpus), 0)::float8 AS cpus, COALESCE(sum(f.memory_mb), 0)::float8 AS memory_mb,
            count(*)::int AS jobs
       FROM jobs j LEFT JOIN flavours f ON f.id = j.flavour_id
      WHERE j.state IN ('assigned', 'running') AND j.node_id IS NOT NULL`,
  );
  const u = used.rows[0];
  return {
    ...queue,
    runsByState: Object.fromEntries(runs.rows.map((r) => [r.state, Number(r.n)])),
    nodes: nodes.rows.map((n) => ({
      id: Number(n.id),
      connected: n.connected,
      enabled: n.enabled,
      cpus: Number(n.cpus),
      memoryMb: n.memory_mb,
    })),
    used: { cpus: u?.cpus ?? 0, memoryMb: u?.memory_mb ?? 0, jobs: u?.jobs ?? 0 },
  };
}
