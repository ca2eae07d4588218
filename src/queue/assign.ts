// assignJobs: queued → assigned for a batch of placements, in one statement. Each assignment
// starts a new attempt (attempt + 1) with a fresh lease and a fresh log budget; only jobs still
// queued move, so a job cancelled since it was claimed is left alone. The node's worker trust and
// operator are recorded with the assignment, from the nodes row in the same statement (migration
// 039): corroboration weighs the build as the node was when it built, not as an administrator may
// have set it since; and whether the node's pool is a deploy pool (migration 042). setWaitReasons records why the others still wait.
import type { JobDescription } from "../runner/types.js";
import { OPERATOR_KEY } from "./claim.js";
import { leaseInterval, run } from "./sql.js";
import type { Assignment, Queryable } from "./types.js";

const ASSIGN = `
UPDATE jobs j SET
  state = 'assigned', attempt = j.attempt + 1,
  node_id = a.node_id, image_id = a.image_id, flavour_id = a.flavour_id,
  assigned_at = now(), started_at = NULL, lease_expires_at = now() + $5::interval,
  wait_reason = NULL, log_bytes = 0, log_truncated = false,
  assigned_worker_trust = n.worker_trust, assigned_operator = n.operator, assigned_operator_key = ${OPERATOR_KEY},
  assigned_deploy_pool = (SELECT p.name FROM pools p WHERE p.id = n.pool_id AND p.deploy)
FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[]) AS a(job_id, node_id, image_id, flavour_id)
  JOIN nodes n ON n.id = a.node_id
WHERE j.id = a.job_id AND j.state = 'queued'
RETURNING j.id, j.attempt, j.description`;

export async function assignJobs(
  client: Queryable,
  assignments: Assignment[],
  leaseMs: number,
): Promise<Array<{ jobId: number; attempt: number; description: JobDescription }>> {
  if (assignments.length === 0) return [];
  const { rows } = await run<{ id: string; attempt: number; description: JobDescription }>(
    client,
    "assign",
    ASSIGN,
    [
      assignments.map((a) => a.jobId),
      assignments.map((a) => a.nodeId),
      assignments.map((a) => a.imageId),
      assignments.map((a) => a.flavourId),
      leaseInterval(leaseMs),
    ],
  );
  return rows.map((r) => ({ jobId: Number(r.id), attempt: r.attempt, description: r.description }));
}

// Unchanged reasons are not rewritten: a scheduling pass repeats them for every waiting job and
// rewriting identical rows would only churn the table.
const WAIT_REASONS = `
UPDATE jobs j SET wait_reason = w.reason
FROM unnest($1::bigint[], $2::text[]) AS w(job_id, reason)
WHERE j.id = w.job_id AND j.state = 'queued' AND j.wait_reason IS DISTINCT FROM w.reason`;

export async function setWaitReasons(
  client: Queryable,
  rows: Array<{ jobId: number; reason: string }>,
): Promise<void> {
  if (rows.length === 0) return;
  await run(client, "waitReasons", WAIT_REASONS, [rows.map((r) => r.jobId), rows.map((r) => r.reason)]);
}
