// acceptJob: the agent took the job attempt (assigned → running). Idempotent per attempt: a
// repeated `accepted` (resent after a reconnect) renews the lease and still answers true; any other
// attempt, or a job no longer assigned/running (completed, requeued, lost), changes nothing → false.
import { leaseInterval, run } from "./sql.js";
import type { Queryable } from "./types.js";

const ACCEPT = `
UPDATE jobs SET
  state = 'running',
  started_at = CASE WHEN state = 'assigned' THEN now() ELSE started_at END,
  lease_expires_at = now() + $3::interval
WHERE id = $1 AND attempt = $2 AND state IN ('assigned', 'running')
RETURNING EXTRACT(EPOCH FROM (started_at - queued_at))::float8 AS waited, cancel_requested`;

export async function acceptJob(
  db: Queryable,
  jobId: number,
  attempt: number,
  leaseMs: number,
): Promise<boolean> {
  return (await acceptJobTimed(db, jobId, attempt, leaseMs)) !== undefined;
}

export interface Accepted {
  /** Seconds from queued to accepted. */
  waited: number;
  /** The job was cancelled while its assignment was on its way: stop it now. */
  cancelRequested: boolean;
}

/** acceptJob that also answers how long the job waited and whether it was cancelled meanwhile; undefined = refused. */
export async function acceptJobTimed(
  db: Queryable,
  jobId: number,
  attempt: number,
  leaseMs: number,
): Promise<Accepted | undefined> {
  const { rows } = await run<{ waited: number | null; cancel_requested: boolean }>(db, "accept", ACCEPT, [
    jobId,
    attempt,
    leaseInterval(leaseMs),
  ]);
  const r = rows[0];
  return r === undefined ? undefined : { waited: r.waited ?? 0, cancelRequested: r.cancel_requested };
}
