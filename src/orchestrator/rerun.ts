// Re-runs as on GitHub: a finished run is run again as a new attempt of the same run (same id and
// number, github.run_attempt + 1), every job again, only the failed ones, or one job ("Re-run this
// job": the job, all its matrix instances, and the jobs that need it; the others kept as below). Earlier attempts keep
// their jobs, conclusions, steps and logs. "Failed only" re-runs the failed and cancelled job
// instances and every job that needs one of them (transitively, all of its matrix instances); the
// other jobs of the last attempt are copied into the new one as they ended (jobs.reused_from names
// the job whose result and log they are), so the planner's replay finds them done and hands their
// outputs to the jobs that need them.
//
// A new attempt gets nothing of the last one's credentials: its run key is cleared (the driver
// makes a fresh one, so values sealed for the last attempt do not open), its jobs are new rows (so
// release and identity request tokens, bound to a job row, do not carry over), environment reviews
// are asked again (a deployment belongs to a job row) and an untrusted run is approved again unless
// its commit already is.
import type pg from "pg";
import { AirlockError, ErrorCode } from "../errors/index.js";
import type { Workflow } from "../workflow/index.js";
import type { Approval } from "./trust.js";

export type RerunMode = "all" | "failed" | "job";

export interface RerunRequest {
  mode: RerunMode;
  /** Mode "job": the workflow's job id to run again (all its instances), with the jobs that need it. */
  job?: string;
  /** Who asked (github.triggering_actor). */
  actor: string;
  /** The Airlock user who asked: never a reviewer of this attempt's deployments. */
  byUserId: number | null;
}

interface JobOfAttempt {
  id: number;
  key: string;
  jobId: string;
  state: string;
  conclusion: string | null;
}

/**
 * The top-level job instance a job row belongs to, "<file>#<job id>#<index>", and its job id: a
 * called workflow's jobs ("<caller key>/<file>#<caller>/<id>#<index>") belong to their caller's.
 */
function unitOf(key: string): { unit: string; jobId: string } {
  const m = /^(.*?)#([A-Za-z_][\w-]*)#(\d+)(?=\/|$)/.exec(key);
  return m ? { unit: m[0], jobId: m[2]! } : { unit: key, jobId: "" };
}

const failed = (j: JobOfAttempt): boolean =>
  j.state === "lost" || j.conclusion === "failure" || j.conclusion === "cancelled";

/**
 * The jobs of the last attempt whose results a partial re-run keeps: every job outside the
 * instances to run again (default: the failed ones; or those `again` picks) and the jobs that need
 * them. `failed` counts the instances picked (0: nothing to re-run; the caller refuses).
 */
export function jobsToReuse(
  workflow: Workflow,
  jobs: JobOfAttempt[],
  again: (j: JobOfAttempt) => boolean = failed,
): { reuse: number[]; failed: number } {
  const failedUnits = new Set(jobs.filter(again).map((j) => unitOf(j.key).unit));
  const reach = new Set([...failedUnits].map((u) => unitOf(u).jobId));
  // Dependents, transitively: a job that needs a re-run job is re-run (all of its instances).
  const dependents = new Set<string>();
  for (let grew = true; grew;) {
    grew = false;
    for (const j of workflow.jobs) {
      if (!dependents.has(j.id) && j.needs.some((n) => reach.has(n))) {
        dependents.add(j.id);
        reach.add(j.id);
        grew = true;
      }
    }
  }
  const reuse = jobs.filter((j) => {
    const { unit, jobId } = unitOf(j.key);
    return !failedUnits.has(unit) && !dependents.has(jobId);
  });
  return { reuse: reuse.map((j) => j.id), failed: failedUnits.size };
}

// Copies the kept jobs (and their steps) into the new attempt, completed as they were. Their log is
// the original's (reused_from points at the first job that ran it, not at a copy of a copy); its
// node as recorded when it was assigned (migration 039) goes with it.
const COPY_JOBS = `
WITH src AS (
  SELECT * FROM jobs WHERE id = ANY($3::bigint[]) AND run_id = $1
), ins AS (
  INSERT INTO jobs (run_id, run_attempt, key, job_id, name, workflow, matrix, labels, state, conclusion,
                    continue_on_error, attempt, max_attempts, node_id, image_id, flavour_id, outputs, error,
                    log_bytes, log_truncated, created_at, queued_at, assigned_at, started_at, finished_at,
                    environment, environment_url, reused_from,
                    assigned_worker_trust, assigned_operator, assigned_operator_key, assigned_deploy_pool)
  SELECT run_id, $2, key, job_id, name, workflow, matrix, labels, 'completed', conclusion,
         continue_on_error, attempt, max_attempts, node_id, image_id, flavour_id, outputs, error,
         log_bytes, log_truncated, created_at, queued_at, assigned_at, started_at, finished_at,
         environment, environment_url, coalesce(reused_from, id),
         assigned_worker_trust, assigned_operator, assigned_operator_key, assigned_deploy_pool
    FROM src
  RETURNING id, key
)
INSERT INTO steps (job_id, idx, step_id, name, stage, outcome, conclusion, outputs, started_at, finished_at)
SELECT ins.id, s.idx, s.step_id, s.name, s.stage, s.outcome, s.conclusion, s.outputs, s.started_at, s.finished_at
  FROM ins JOIN src ON src.key = ins.key JOIN steps s ON s.job_id = src.id`;

/**
 * Starts attempt N+1 of a finished run, in one transaction: CONFLICT (one line, nothing changed)
 * when the run has not finished, or when only failed jobs are asked for and none failed.
 * Returns the new attempt's number.
 */
export async function startAttempt(
  c: pg.PoolClient,
  runId: number,
  workflow: Workflow,
  req: RerunRequest,
  approval: Approval,
): Promise<number> {
  const { rows } = await c.query<{ state: string; attempt: number }>(
    `SELECT state, attempt FROM runs WHERE id = $1 FOR UPDATE`,
    [runId],
  );
  const run = rows[0];
  if (!run) throw new AirlockError(ErrorCode.NOT_FOUND, `no run ${runId}`);
  if (run.state !== "completed")
    throw new AirlockError(
      ErrorCode.CONFLICT,
      `run ${runId} is ${run.state}: only a finished run can be re-run (cancel it first)`,
    );
  const attempt = run.attempt + 1;
  let reuse: number[] = [];
  if (req.mode !== "all") {
    const jobs = await c.query<{
      id: string;
      key: string;
      job_id: string;
      state: string;
      conclusion: string | null;
    }>(
      `SELECT id, key, job_id, state, conclusion FROM jobs WHERE run_id = $1 AND run_attempt = $2 AND replica_of IS NULL`,
      [runId, run.attempt],
    );
    const found = jobsToReuse(
      workflow,
      jobs.rows.map((j) => ({
        id: Number(j.id),
        key: j.key,
        jobId: j.job_id,
        state: j.state,
        conclusion: j.conclusion,
      })),
      req.mode === "job" ? (j) => unitOf(j.key).jobId === req.job : failed,
    );
    if (found.failed === 0 && req.mode === "job")
      throw new AirlockError(
        ErrorCode.NOT_FOUND,
        `run ${runId} has no job '${req.job ?? ""}' in attempt ${run.attempt}`,
      );
    if (found.failed === 0)
      throw new AirlockError(
        ErrorCode.CONFLICT,
        `run ${runId} has no failed or cancelled job to re-run (attempt ${run.attempt}); re-run all jobs instead`,
      );
    reuse = found.reuse;
  }
  // The attempt that ends here keeps how it ended; the run row is the new attempt's from now on.
  // (Upserted: a run made without its attempt row, by hand or an older tool, gets one.)
  await c.query(
    `INSERT INTO run_attempts (run_id, attempt, triggering_actor, triggered_by_user_id, conclusion, error,
                               created_at, started_at, finished_at)
     SELECT id, attempt, actor, triggered_by_user_id, conclusion, error, created_at, started_at, finished_at
       FROM runs WHERE id = $1
     ON CONFLICT (run_id, attempt) DO UPDATE SET conclusion = excluded.conclusion, error = excluded.error,
            started_at = excluded.started_at, finished_at = excluded.finished_at`,
    [runId],
  );
  await c.query(
    `INSERT INTO run_attempts (run_id, attempt, mode, job, triggering_actor, triggered_by_user_id)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [runId, attempt, req.mode, req.mode === "job" ? (req.job ?? "") : null, req.actor, req.byUserId],
  );
  await c.query(
    `UPDATE runs SET attempt = $2, state = 'queued', conclusion = NULL, error = NULL, started_at = NULL,
            finished_at = NULL, cancel_requested = false, run_key_wrapped = NULL,
            run_key_organization_key_id = NULL, approval = $3, approval_reason = $4,
            approved_by = NULL, approved_at = NULL,
            -- the new attempt is announced to workflow_run listeners again (requested … completed)
            workflow_run_announced = CASE WHEN workflow_run_announced = 3 THEN 0 ELSE workflow_run_announced END
      WHERE id = $1`,
    [runId, attempt, approval.approval, approval.reason],
  );
  if (reuse.length > 0) await c.query(COPY_JOBS, [runId, attempt, reuse]);
  // Rebuilds of the last attempt still queued are dropped: their secrets were sealed under the
  // run key just cleared. Their artifacts then get their verdict from the builds that did finish
  // (the periodic settle), so nothing of the new attempt waits for them.
  await c.query(
    `UPDATE jobs SET state = 'completed', conclusion = 'cancelled', finished_at = now(), wait_reason = NULL,
            error = 'the run was re-run'
      WHERE run_id = $1 AND replica_of IS NOT NULL AND state = 'queued'`,
    [runId],
  );
  return attempt;
}
