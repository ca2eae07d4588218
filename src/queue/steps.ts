// recordStep: live step state while a job attempt runs (the API shows which step is running and how
// earlier ones ended). Only the job's current attempt, while assigned or running, writes; completeJob
// rewrites every step from the final result, expireLeases drops them when the job is retried.
import type { Conclusion, StepRef } from "../runner/types.js";
import { run } from "./sql.js";
import type { Queryable } from "./types.js";

const STARTED = `
INSERT INTO steps (job_id, idx, step_id, name, stage, started_at)
SELECT id, $3, $4, $5, $6, now() FROM jobs
WHERE id = $1 AND attempt = $2 AND state IN ('assigned', 'running')
ON CONFLICT (job_id, idx) DO UPDATE SET
  step_id = EXCLUDED.step_id, name = EXCLUDED.name, stage = EXCLUDED.stage, started_at = EXCLUDED.started_at,
  outcome = NULL, conclusion = NULL, outputs = '{}', finished_at = NULL`;

const FINISHED = `
INSERT INTO steps (job_id, idx, step_id, name, stage, outcome, conclusion, outputs, started_at, finished_at)
SELECT id, $3, $4, $5, $6, $7, $8, $9::jsonb, now(), now() FROM jobs
WHERE id = $1 AND attempt = $2 AND state IN ('assigned', 'running')
ON CONFLICT (job_id, idx) DO UPDATE SET
  step_id = EXCLUDED.step_id, name = EXCLUDED.name, stage = EXCLUDED.stage,
  outcome = EXCLUDED.outcome, conclusion = EXCLUDED.conclusion, outputs = EXCLUDED.outputs,
  started_at = COALESCE(steps.started_at, EXCLUDED.started_at), finished_at = EXCLUDED.finished_at`;

export type StepPhase =
  "started" | { outcome: Conclusion; conclusion: Conclusion; outputs: Record<string, string> };

export async function recordStep(
  db: Queryable,
  jobId: number,
  attempt: number,
  step: StepRef,
  phase: StepPhase,
): Promise<void> {
  const base = [jobId, attempt, step.index, step.id, step.name, step.stage];
  if (phase === "started") await run(db, "step.started", STARTED, base);
  else
    await run(db, "step.finished", FINISHED, [
      ...base,
      phase.outcome,
      phase.conclusion,
      JSON.stringify(phase.outputs ?? {}),
    ]);
}
