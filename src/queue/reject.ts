// rejectJob: the agent cannot run the attempt it was assigned (unknown image, no room, shutting
// down): assigned → queued without counting the attempt against the job's retries (max_attempts +
// 1), keeping its place in the queue (queued_at unchanged). The attempt's number is not given
// back: the rejecting node held that attempt's runtime token, and whatever it made with it
// (artifacts, cache entries) stays that attempt's, never the next node's. Only from assigned: once accepted, the agent reports `finished`.
// A job of a run being cancelled is not requeued (its `cancel` may have crossed the rejection):
// it completes as cancelled, as expireLeases does.
import { run } from "./sql.js";
import type { Queryable } from "./types.js";

const REJECT = `
UPDATE jobs j SET
  state = CASE WHEN r.cancel_requested OR j.cancel_requested THEN 'completed' ELSE 'queued' END,
  conclusion = CASE WHEN r.cancel_requested OR j.cancel_requested THEN 'cancelled' END,
  finished_at = CASE WHEN r.cancel_requested OR j.cancel_requested THEN now() END,
  max_attempts = CASE WHEN r.cancel_requested OR j.cancel_requested THEN j.max_attempts ELSE j.max_attempts + 1 END,
  node_id = NULL, image_id = NULL, flavour_id = NULL, lease_expires_at = NULL, assigned_at = NULL,
  assigned_worker_trust = NULL, assigned_operator = NULL, assigned_operator_key = NULL,
  assigned_deploy_pool = NULL,
  wait_reason = CASE WHEN r.cancel_requested OR j.cancel_requested THEN NULL ELSE
                'node ' || COALESCE((SELECT n.name FROM nodes n WHERE n.id = j.node_id), '?') ||
                ' rejected the job: ' || $3 END
FROM runs r
WHERE r.id = j.run_id AND j.id = $1 AND j.attempt = $2 AND j.state = 'assigned'
RETURNING j.state`;

export async function rejectJob(
  db: Queryable,
  jobId: number,
  attempt: number,
  reason: string,
): Promise<boolean> {
  return (await rejectJobTo(db, jobId, attempt, reason)) !== undefined;
}

/** rejectJob that answers where the job went: back to the queue, or completed (its run is being cancelled). */
export async function rejectJobTo(
  db: Queryable,
  jobId: number,
  attempt: number,
  reason: string,
): Promise<"queued" | "completed" | undefined> {
  const { rows } = await run<{ state: "queued" | "completed" }>(db, "reject", REJECT, [
    jobId,
    attempt,
    reason,
  ]);
  return rows[0]?.state;
}
