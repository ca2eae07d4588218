// storeSummaries: the step summaries (GITHUB_STEP_SUMMARY) of a job attempt, stored with its
// `finished` message, before the job is completed (so a reader that sees the job completed sees
// its summaries). Only the job's current attempt, while assigned or running, writes; a repeated
// `finished` stores nothing twice (ON CONFLICT DO NOTHING on (job, attempt, step)). What an agent
// sends is bounded by the caller with boundedSummaries (src/runner/summaries.ts) whatever it claims.
import type { StepSummary } from "../runner/types.js";
import { run } from "./sql.js";
import type { Queryable } from "./types.js";

const STORE = `
INSERT INTO step_summaries (job_id, attempt, step_index, step_id, step_name, markdown)
SELECT j.id, j.attempt, s.idx, s.step_id, s.step_name, s.markdown
  FROM jobs j, unnest($3::integer[], $4::text[], $5::text[], $6::text[]) AS s(idx, step_id, step_name, markdown)
 WHERE j.id = $1 AND j.attempt = $2 AND j.state IN ('assigned', 'running')
ON CONFLICT DO NOTHING`;

export async function storeSummaries(
  db: Queryable,
  jobId: number,
  attempt: number,
  summaries: StepSummary[],
): Promise<void> {
  if (summaries.length === 0) return;
  await run(db, "summaries.store", STORE, [
    jobId,
    attempt,
    summaries.map((s) => s.step.index),
    summaries.map((s) => s.step.id),
    summaries.map((s) => s.step.name),
    summaries.map((s) => s.markdown),
  ]);
}
