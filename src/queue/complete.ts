// completeJob / failJob: assigned|running → completed for exactly one job attempt. A message for
// another attempt, or for a job already completed, lost or requeued, changes nothing and answers
// false, so a stale or repeated `finished` from an agent is harmless. completeJob replaces the
// live step rows (recordStep) with the result's steps in the same statement.
import type { JobResult, StepResult } from "../runner/types.js";
import { run } from "./sql.js";
import type { Queryable } from "./types.js";

// The DELETE and the upsert touch disjoint rows (indexes absent from / present in the result):
// data-modifying CTEs run in no guaranteed order, so they must never touch the same row.
const COMPLETE = `
WITH done AS (
  UPDATE jobs SET state = 'completed', conclusion = $3, outputs = $4::jsonb,
                  -- A cancel that said why (e.g. a concurrency group's newer run) keeps its reason.
                  error = CASE WHEN cancel_requested AND $3 = 'cancelled' AND error IS NOT NULL THEN error ELSE $5 END,
                  finished_at = now(), lease_expires_at = NULL, wait_reason = NULL,
                  environment_url = CASE WHEN environment IS NULL THEN NULL ELSE $7 END
  WHERE id = $1 AND attempt = $2 AND state IN ('assigned', 'running')
  RETURNING id
), input AS (
  SELECT * FROM jsonb_to_recordset($6::jsonb) AS s(
    idx integer, step_id text, name text, stage text, outcome text, conclusion text, outputs jsonb,
    duration_ms double precision)
), gone AS (
  DELETE FROM steps WHERE job_id IN (SELECT id FROM done) AND idx NOT IN (SELECT idx FROM input)
), put AS (
  INSERT INTO steps (job_id, idx, step_id, name, stage, outcome, conclusion, outputs, started_at, finished_at)
  SELECT done.id, s.idx, s.step_id, s.name, s.stage, s.outcome, s.conclusion, COALESCE(s.outputs, '{}'),
         now() - make_interval(secs => COALESCE(s.duration_ms, 0) / 1000), now()
  FROM done, input s
  ON CONFLICT (job_id, idx) DO UPDATE SET
    step_id = EXCLUDED.step_id, name = EXCLUDED.name, stage = EXCLUDED.stage,
    outcome = EXCLUDED.outcome, conclusion = EXCLUDED.conclusion, outputs = EXCLUDED.outputs,
    started_at = COALESCE(steps.started_at, EXCLUDED.started_at),
    finished_at = COALESCE(steps.finished_at, EXCLUDED.finished_at)
)
SELECT count(*)::int AS n FROM done`;

const CONCLUSIONS = new Set(["success", "failure", "cancelled"]);

export async function completeJob(
  db: Queryable,
  jobId: number,
  attempt: number,
  result: JobResult,
  error?: string,
): Promise<boolean> {
  // The result comes from an agent: a conclusion outside the schema's set counts as a failure
  // rather than making the statement (and the job) fail forever.
  const conclusion = CONCLUSIONS.has(result.conclusion) ? result.conclusion : "failure";
  const { rows } = await run<{ n: number }>(db, "complete", COMPLETE, [
    jobId,
    attempt,
    conclusion,
    JSON.stringify(result.outputs ?? {}),
    error ?? null,
    JSON.stringify(stepRows(result.steps ?? [])),
    // From an agent: kept only for a job that has an environment, bounded.
    typeof result.environmentUrl === "string" ? result.environmentUrl.slice(0, 2048) : null,
  ]);
  return rows[0]?.n === 1;
}

/** One row per step index (the last report wins), as the COMPLETE statement reads them. */
function stepRows(steps: StepResult[]): object[] {
  const byIndex = new Map<number, object>();
  for (const s of steps) {
    byIndex.set(s.index, {
      idx: s.index,
      step_id: s.id,
      name: s.name,
      stage: s.stage,
      outcome: s.outcome,
      conclusion: s.conclusion,
      outputs: s.outputs ?? {},
      duration_ms: s.durationMs,
    });
  }
  return [...byIndex.values()];
}

const FAIL = `
UPDATE jobs SET state = 'completed', conclusion = 'failure', error = $3,
                finished_at = now(), lease_expires_at = NULL, wait_reason = NULL
WHERE id = $1 AND attempt = $2 AND state IN ('assigned', 'running')`;

/** Completes the attempt as a failure with `error` (the machine could not be created...); steps stay as recorded. */
export async function failJob(
  db: Queryable,
  jobId: number,
  attempt: number,
  error: string,
): Promise<boolean> {
  const { rowCount } = await run(db, "fail", FAIL, [jobId, attempt, error]);
  return rowCount === 1;
}
