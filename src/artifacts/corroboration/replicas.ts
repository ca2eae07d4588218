// Independent rebuilds, step 1: when a job that uploaded artifacts has succeeded and its
// repository's policy asks for corroboration, the orchestrator queues its replicas — job rows of
// the same run attempt with the same description (same commit, inputs, `needs` outputs; the same
// fixed build path and SOURCE_DATE_EPOCH), which the scheduler places only on nodes of operators
// that have not built it yet (JobToPlace.replica). Nothing waits for a replica: jobs that need the
// job go on with its own artifacts ("used for speed"), and the verdict follows (evaluate.ts).
// Idempotent: replica keys are unique in the run attempt, so a second call queues nothing.
import { assignedNode } from "../../queue/index.js";
import type { Db } from "../db.js";
import { artifactPolicy, type CorroborationPolicy } from "../policy.js";

interface JobFacts {
  id: string;
  repository_id: string;
  workflow_file: string;
  state: string;
  conclusion: string | null;
  environment: string | null;
  deploy_pool: boolean | null;
  replica_of: string | null;
  worker_trust: "trusted" | "untrusted" | null;
  cancel_requested: boolean;
  artifacts: number;
}

// The job's worker trust as recorded when it was assigned (migration 039; before it: the node's
// current trust): a node made trusted after the build still gets the build its trusted rebuild.
// A build whose node is gone counts as no trusted worker's (as the verdict weighs it). Whether it
// ran as a deployment on a deploy pool: as recorded at assignment (migration 042).
const FACTS = `
SELECT j.id, r.repository_id, r.workflow_file, j.state, j.conclusion, j.environment, j.replica_of,
       CASE WHEN n.id IS NULL THEN NULL ELSE ${assignedNode("j").workerTrust} END AS worker_trust,
       r.cancel_requested, j.assigned_deploy_pool IS NOT NULL AS deploy_pool,
       (SELECT count(*)::int FROM artifacts a
         WHERE a.job_id = j.id AND a.job_attempt = j.attempt AND a.state = 'finalized'
           AND a.replica_of IS NULL) AS artifacts
  FROM jobs j JOIN runs r ON r.id = j.run_id LEFT JOIN nodes n ON n.id = j.node_id
 WHERE j.id = $1`;

// Same run attempt, description and labels; its own key, name and attempts; queued now. Its
// permissions are read-only and without id-token (as an untrusted run's: untrustedJob): another
// operator's node must not act for the repository or mint the job's cloud identity.
const INSERT = `
INSERT INTO jobs (run_id, run_attempt, key, job_id, name, workflow, matrix, labels, description,
                  continue_on_error, max_attempts, state, queued_at, replica_of, replica_trusted_worker)
SELECT run_id, run_attempt, key || '#rebuild-' || $2::int, job_id, name || ' (rebuild ' || $2::int || ')',
       workflow, matrix, labels,
       CASE WHEN jsonb_typeof(description->'permissions') = 'object'
            THEN jsonb_set(description, '{permissions}', (
              SELECT coalesce(jsonb_object_agg(k, 'read'), '{}'::jsonb)
                FROM jsonb_object_keys(description->'permissions') k WHERE k <> 'id-token'))
            ELSE description END,
       false, max_attempts, 'queued', now(), id, $3
  FROM jobs WHERE id = $1
ON CONFLICT (run_id, run_attempt, key) DO NOTHING
RETURNING id`;

/** Whether the policy asks for rebuilds of this workflow's jobs. */
export function corroborates(p: CorroborationPolicy, workflowFile: string): boolean {
  if (p.builds <= 1 && !p.trustedBuild) return false;
  return p.workflows === null || p.workflows.includes(workflowFile);
}

/**
 * How many replicas a job needs: builds - 1 on other operators, plus one on a trusted worker when
 * the policy asks for it and the job itself did not run on one.
 */
export function replicasFor(
  p: CorroborationPolicy,
  builtOn: "trusted" | "untrusted" | null,
): Array<{ trustedWorker: boolean }> {
  const out = Array.from({ length: Math.max(0, p.builds - 1) }, () => ({ trustedWorker: false }));
  if (p.trustedBuild && builtOn !== "trusted") out.push({ trustedWorker: true });
  return out;
}

/**
 * Queues the replicas of job `jobId` if it needs them (a successful job, not itself a replica, not
 * a deployment — an environment's job or one on a deploy pool's node — with finalized artifacts,
 * of a workflow the policy names). Returns the ids queued.
 */
export async function queueReplicas(db: Db, jobId: number): Promise<number[]> {
  const { rows } = await db.query<JobFacts>(FACTS, [jobId]);
  const j = rows[0];
  if (!j || j.replica_of !== null) return [];
  const needed = await neededReplicas(db, j);
  if (needed.length === 0) {
    // Nothing to wait for: its artifacts keep the single build's status.
    await db.query(`UPDATE artifacts SET awaiting_rebuilds = false WHERE job_id = $1 AND awaiting_rebuilds`, [
      jobId,
    ]);
    return [];
  }
  const ids: number[] = [];
  for (const [i, r] of needed.entries()) {
    const made = await db.query<{ id: string }>(INSERT, [jobId, i + 1, r.trustedWorker]);
    if (made.rows[0]) ids.push(Number(made.rows[0].id));
  }
  return ids;
}

async function neededReplicas(db: Db, j: JobFacts): Promise<Array<{ trustedWorker: boolean }>> {
  if (j.state !== "completed" || j.conclusion !== "success" || j.cancel_requested) return [];
  // A deployment's job (an environment's, or one on a deploy pool's node) is not a build to
  // repeat: it would deploy again.
  if (j.environment !== null || j.deploy_pool === true || j.artifacts === 0) return [];
  const policy = (await artifactPolicy(db, Number(j.repository_id))).corroborate;
  if (!corroborates(policy, j.workflow_file)) return [];
  return replicasFor(policy, j.worker_trust);
}

/**
 * At finalize: an artifact of a job whose workflow the policy has rebuilt waits for the verdict
 * (not promotable; deployments of the run wait). Replicas' own uploads never wait, nor a
 * deployment's (it is not rebuilt).
 */
export async function markAwaitingRebuilds(db: Db, artifactId: number): Promise<boolean> {
  const { rows } = await db.query<{
    repository_id: string;
    workflow_file: string;
    replica_of: string | null;
  }>(
    `SELECT a.repository_id, r.workflow_file, a.replica_of
       FROM artifacts a JOIN runs r ON r.id = a.run_id JOIN jobs j ON j.id = a.job_id
      WHERE a.id = $1 AND j.environment IS NULL AND j.assigned_deploy_pool IS NULL`,
    [artifactId],
  );
  const a = rows[0];
  if (!a || a.replica_of !== null) return false;
  const policy = (await artifactPolicy(db, Number(a.repository_id))).corroborate;
  if (!corroborates(policy, a.workflow_file)) return false;
  await db.query(`UPDATE artifacts SET awaiting_rebuilds = true WHERE id = $1`, [artifactId]);
  return true;
}
