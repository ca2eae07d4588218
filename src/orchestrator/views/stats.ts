// Cheap aggregate queries behind the Prometheus gauges, run on every scrape.
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
