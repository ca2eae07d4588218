// rejectJob: the agent cannot run the attempt it was assigned (unknown image, no room, shutting
// down): assigned → queued without counting the attempt (attempt - 1), keeping its place in the
// queue (queued_at unchanged). Only from assigned: once accepted, the agent reports `finished`.
import { run } from "./sql.js";
import type { Queryable } from "./types.js";

const REJECT = `
UPDATE jobs j SET
  state = 'queued', attempt = j.attempt - 1,
  node_id = NULL, image_id = NULL, flavour_id = NULL, lease_expires_at = NULL, assigned_at = NULL,
  wait_reason = 'node ' || COALESCE((SELECT n.name FROM nodes n WHERE n.id = j.node_id), '?') ||
                ' rejected the job: ' || $3
WHERE j.id = $1 AND j.attempt = $2 AND j.state = 'assigned'`;

export async function rejectJob(
  db: Queryable,
  jobId: number,
  attempt: number,
  reason: string,
): Promise<boolean> {
  const { rowCount } = await run(db, "reject", REJECT, [jobId, attempt, reason]);
  return rowCount === 1;
}
