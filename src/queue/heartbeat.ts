// renewLeases: a node's heartbeat renews the leases of the job attempts it still runs. Only
// attempts that are assigned to THAT node and still assigned/running are renewed: a node cannot
// keep alive a job that was requeued after its lease expired and placed elsewhere.
import { leaseInterval, run } from "./sql.js";
import type { JobRef, Queryable } from "./types.js";

const RENEW = `
UPDATE jobs j SET lease_expires_at = now() + $4::interval
FROM unnest($2::bigint[], $3::integer[]) AS r(job_id, attempt)
WHERE j.id = r.job_id AND j.attempt = r.attempt AND j.node_id = $1 AND j.state IN ('assigned', 'running')`;

/** Returns how many leases were renewed. */
export async function renewLeases(
  db: Queryable,
  nodeId: number,
  refs: JobRef[],
  leaseMs: number,
): Promise<number> {
  if (refs.length === 0) return 0;
  const { rowCount } = await run(db, "renew", RENEW, [
    nodeId,
    refs.map((r) => r.jobId),
    refs.map((r) => r.attempt),
    leaseInterval(leaseMs),
  ]);
  return rowCount ?? 0;
}
