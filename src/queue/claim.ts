// claimQueuedJobs: locks the oldest queued jobs for one scheduling pass. Runs inside the caller's
// transaction (the locks last until it commits); SKIP LOCKED lets several orchestrator processes
// dispatch at once without ever placing the same job twice. Uses the jobs_queued index. Jobs held
// by an environment (a gate, or a wait timer until eligible_at) are not claimed, nor jobs whose
// `concurrency:` group someone else holds (their membership is not 'running': migration 024).
// `containers`: the job has `container:`, `services:` or a `docker://` step, so it needs an image
// whose provisioner runs containers (the scheduler's JobToPlace.containers). A replica of another
// job (independent rebuilds, migration 038) carries the operators it must avoid (JobToPlace.replica),
// as recorded when their builds were assigned (migration 039: an operator renamed since does not
// free its nodes for the replica);
// a deployment whose run has rebuilds under way waits for them (JobToPlace.awaitingRebuilds), and
// any other job of such a run stays off deploy pools' nodes until then (JobToPlace.runRebuildsPending).
import type pg from "pg";
import { run } from "./sql.js";
import type { ClaimedJob } from "./types.js";

/** A node's operator as replicas compare them (scheduler NodeState.operator). */
// Names compared without case or repeated spaces ("Alice's Lab" = "alice's  lab"); a name of
// spaces only (set before the API refused it) is no name.
export const OPERATOR_KEY = `coalesce(nullif(lower(regexp_replace(btrim(n.operator), '\\s+', ' ', 'g')), ''),
  CASE WHEN n.worker_trust = 'trusted' THEN '' ELSE 'node:' || n.id END)`;

/**
 * The facts of the node that job `j` was assigned to (joined as `n`), as recorded at assignment
 * (migration 039, assignJobs): an administrator may change a node's trust or operator at any time,
 * and a build is weighed as the node was when it built. Only rows assigned before that migration
 * have no record: they fall back to the node's current values.
 */
export const assignedNode = (j: string): { workerTrust: string; operator: string; operatorKey: string } => {
  const recorded = `${j}.assigned_worker_trust IS NOT NULL`;
  return {
    workerTrust: `coalesce(${j}.assigned_worker_trust, n.worker_trust)`,
    operator: `CASE WHEN ${recorded} THEN ${j}.assigned_operator ELSE n.operator END`,
    operatorKey: `CASE WHEN ${recorded} THEN ${j}.assigned_operator_key ELSE ${OPERATOR_KEY} END`,
  };
};

// A replica (migration 038) excludes the operators of every sibling build that is under way or
// succeeded: the job it rebuilds and its other replicas (not itself: a retry may go back), as
// recorded at their assignment — also when their node has been deleted since — and as their node
// is named now (a node whose operator was renamed since must not rebuild its own build).
const SELECT = `
SELECT j.id, j.run_id, r.repository_id, p.organization_id, j.labels, j.attempt, r.trust_tier,
  (jsonb_typeof(j.description->'container') = 'object' OR jsonb_typeof(j.description->'services') = 'object'
   OR EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(j.description->'steps') = 'array'
              THEN j.description->'steps' ELSE '[]'::jsonb END) s WHERE s->>'uses' LIKE 'docker://%')) AS containers,
  j.replica_of, j.replica_trusted_worker,
  CASE WHEN j.replica_of IS NULL THEN NULL ELSE ARRAY(
    SELECT DISTINCT v.k FROM jobs s LEFT JOIN nodes n ON n.id = s.node_id,
      LATERAL (VALUES (${assignedNode("s").operatorKey}),
                      (CASE WHEN n.id IS NULL THEN NULL ELSE ${OPERATOR_KEY} END)) v(k)
     WHERE (s.id = j.replica_of OR s.replica_of = j.replica_of) AND s.id <> j.id AND v.k IS NOT NULL
       AND (s.state IN ('assigned', 'running') OR (s.state = 'completed' AND s.conclusion = 'success'))
  ) END AS exclude_operators,
  j.environment IS NOT NULL AS deployment,
  -- Uses artifacts_awaiting_rebuilds (a partial index on run_id).
  EXISTS (SELECT 1 FROM artifacts a WHERE a.run_id = j.run_id AND a.awaiting_rebuilds) AS rebuilds_pending
FROM jobs j`;

export const CLAIM = `
${SELECT}
JOIN runs r ON r.id = j.run_id
JOIN repositories p ON p.id = r.repository_id
WHERE j.state = 'queued' AND j.gate IS NULL AND (j.eligible_at IS NULL OR j.eligible_at <= now())
  AND NOT EXISTS (SELECT 1 FROM concurrency_members m WHERE m.job_id = j.id AND m.state <> 'running')
ORDER BY j.queued_at, j.id
LIMIT $1
FOR UPDATE OF j SKIP LOCKED`;

// The same, behind a job of an earlier batch (its queue position): lets the dispatcher look past
// a full batch of jobs that cannot be placed instead of claiming that same batch forever.
const CLAIM_AFTER = `
${SELECT}
JOIN runs r ON r.id = j.run_id
JOIN repositories p ON p.id = r.repository_id
WHERE j.state = 'queued' AND j.gate IS NULL AND (j.eligible_at IS NULL OR j.eligible_at <= now())
  AND NOT EXISTS (SELECT 1 FROM concurrency_members m WHERE m.job_id = j.id AND m.state <> 'running')
  AND (j.queued_at, j.id) > (SELECT c.queued_at, c.id FROM jobs c WHERE c.id = $2)
ORDER BY j.queued_at, j.id
LIMIT $1
FOR UPDATE OF j SKIP LOCKED`;

interface Row {
  id: string;
  run_id: string;
  repository_id: string;
  organization_id: string;
  labels: string[];
  attempt: number;
  trust_tier: "trusted" | "untrusted";
  containers: boolean | null;
  replica_of: string | null;
  replica_trusted_worker: boolean;
  exclude_operators: string[] | null;
  deployment: boolean;
  rebuilds_pending: boolean;
}

/** The oldest queued jobs; with `afterJobId`, those queued behind that job. */
export async function claimQueuedJobs(
  client: pg.PoolClient,
  limit: number,
  afterJobId?: number,
): Promise<ClaimedJob[]> {
  const { rows } =
    afterJobId === undefined
      ? await run<Row>(client, "claim", CLAIM, [limit])
      : await run<Row>(client, "claimAfter", CLAIM_AFTER, [limit, afterJobId]);
  return rows.map((r) => ({
    id: Number(r.id),
    runId: Number(r.run_id),
    repositoryId: Number(r.repository_id),
    organizationId: Number(r.organization_id),
    labels: r.labels,
    attempt: r.attempt,
    trust: r.trust_tier,
    containers: r.containers === true,
    ...(r.rebuilds_pending ? { runRebuildsPending: true } : {}),
    ...(r.rebuilds_pending && r.deployment ? { awaitingRebuilds: true } : {}),
    ...(r.replica_of !== null
      ? {
          replica: {
            of: Number(r.replica_of),
            excludeOperators: r.exclude_operators ?? [],
            trustedWorker: r.replica_trusted_worker,
          },
        }
      : {}),
  }));
}
