// cancelRunJobs: marks the run as being cancelled, completes its waiting jobs as cancelled and
// returns the attempts in flight so the core can tell their agents to stop. Idempotent. Those
// attempts complete when their agent reports `finished` (cancelled); if the agent is gone, the
// lease expiry completes them as cancelled instead of retrying (expireLeases).
import { run } from "./sql.js";
import type { Queryable } from "./types.js";

const CANCEL = `
WITH run AS (
  UPDATE runs SET cancel_requested = true WHERE id = $1 RETURNING id
), waiting AS (
  UPDATE jobs SET state = 'completed', conclusion = 'cancelled', finished_at = now(), wait_reason = NULL
  WHERE run_id = $1 AND state = 'queued'
  RETURNING id
)
SELECT 'queued' AS kind, id, NULL::integer AS attempt, NULL::bigint AS node_id FROM waiting
UNION ALL
SELECT 'active', id, attempt, node_id FROM jobs WHERE run_id = $1 AND state IN ('assigned', 'running')`;

export interface CancelledRunJobs {
  cancelledQueued: number[];
  toStop: Array<{ jobId: number; attempt: number; nodeId: number }>;
}

export async function cancelRunJobs(db: Queryable, runId: number): Promise<CancelledRunJobs> {
  const { rows } = await run<{ kind: string; id: string; attempt: number | null; node_id: string | null }>(
    db,
    "cancel",
    CANCEL,
    [runId],
  );
  const out: CancelledRunJobs = { cancelledQueued: [], toStop: [] };
  for (const r of rows) {
    if (r.kind === "queued") out.cancelledQueued.push(Number(r.id));
    else if (r.node_id !== null)
      out.toStop.push({ jobId: Number(r.id), attempt: r.attempt ?? 0, nodeId: Number(r.node_id) });
  }
  return out;
}
