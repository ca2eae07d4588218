// expireLeases: jobs whose node stopped renewing their lease. An attempt left → back to the queue
// (new queued_at, a wait reason naming the silent node, live steps dropped); none left → lost, a
// failure. A job of a run being cancelled is not retried: it completes as cancelled. Both
// statements lock with SKIP LOCKED, so a row another transaction is completing right now is left
// for the next pass (and then no longer matches). Uses the jobs_leased index.
import { run } from "./sql.js";
import type { Queryable } from "./types.js";

export const REQUEUE = `
WITH expired AS (
  SELECT j.id, j.node_id FROM jobs j
  WHERE j.state IN ('assigned', 'running') AND j.lease_expires_at < now() AND j.attempt < j.max_attempts
    AND NOT j.cancel_requested
    AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = j.run_id AND r.cancel_requested)
  FOR UPDATE OF j SKIP LOCKED
), steps_gone AS (
  DELETE FROM steps WHERE job_id IN (SELECT id FROM expired)
)
UPDATE jobs j SET
  state = 'queued', node_id = NULL, image_id = NULL, flavour_id = NULL, lease_expires_at = NULL,
  assigned_worker_trust = NULL, assigned_operator = NULL, assigned_operator_key = NULL,
  assigned_deploy_pool = NULL,
  assigned_at = NULL, started_at = NULL, queued_at = now(),
  wait_reason = 'retrying after node ' || COALESCE(n.name, '?') || ' stopped answering'
FROM expired e LEFT JOIN nodes n ON n.id = e.node_id
WHERE j.id = e.id
RETURNING j.id`;

export const GIVE_UP = `
WITH expired AS (
  SELECT j.id, j.node_id, j.attempt, (r.cancel_requested OR j.cancel_requested) AS cancel_requested
  FROM jobs j JOIN runs r ON r.id = j.run_id
  WHERE j.state IN ('assigned', 'running') AND j.lease_expires_at < now()
    AND (j.attempt >= j.max_attempts OR r.cancel_requested OR j.cancel_requested)
  FOR UPDATE OF j SKIP LOCKED
)
UPDATE jobs j SET
  state = CASE WHEN e.cancel_requested THEN 'completed' ELSE 'lost' END,
  conclusion = CASE WHEN e.cancel_requested THEN 'cancelled' ELSE 'failure' END,
  error = CASE WHEN e.cancel_requested THEN 'cancelled; node ' || COALESCE(n.name, '?') || ' stopped answering'
          ELSE 'lost: node ' || COALESCE(n.name, '?') || ' stopped answering (attempt ' || e.attempt ||
               ' of ' || j.max_attempts || ')' END,
  finished_at = now(), lease_expires_at = NULL
FROM expired e LEFT JOIN nodes n ON n.id = e.node_id
WHERE j.id = e.id
RETURNING j.id, e.cancel_requested`;

export interface ExpiredLeases {
  /** Back in the queue for another attempt. */
  requeued: number[];
  /** No attempt left: state lost, conclusion failure. */
  lost: number[];
  /** Their run is being cancelled: completed as cancelled instead of retried. */
  cancelled: number[];
}

export async function expireLeases(db: Queryable): Promise<ExpiredLeases> {
  const requeued = await run<{ id: string }>(db, "expire.requeue", REQUEUE, []);
  const gaveUp = await run<{ id: string; cancel_requested: boolean }>(db, "expire.giveUp", GIVE_UP, []);
  return {
    requeued: requeued.rows.map((r) => Number(r.id)),
    lost: gaveUp.rows.filter((r) => !r.cancel_requested).map((r) => Number(r.id)),
    cancelled: gaveUp.rows.filter((r) => r.cancel_requested).map((r) => Number(r.id)),
  };
}
