// Step summaries (GITHUB_STEP_SUMMARY) of a job, as stored when its attempt finished
// (src/queue/summaries.ts): the Markdown of each step that wrote one, in step order, of the job's
// latest delivery attempt. The Markdown is what a job wrote (masked): the UI renders it as
// sanitized Markdown, never as HTML.
import type { Db } from "../catalog/index.js";
import { logJobOf } from "./jobs.js";

export interface JobStepSummary {
  step: { index: number; id: string; name: string };
  markdown: string;
}

/** A reused job shows the summaries of the job whose result it keeps, as it shows its log. */
export async function jobSummaries(db: Db, jobId: number): Promise<JobStepSummary[]> {
  const job = await logJobOf(db, jobId);
  const { rows } = await db.query<{
    step_index: number;
    step_id: string;
    step_name: string;
    markdown: string;
  }>(
    `SELECT s.step_index, s.step_id, s.step_name, s.markdown
       FROM step_summaries s JOIN jobs j ON j.id = s.job_id AND j.attempt = s.attempt
      WHERE s.job_id = $1
      ORDER BY s.step_index`,
    [job],
  );
  return rows.map((r) => ({
    step: { index: r.step_index, id: r.step_id, name: r.step_name },
    markdown: r.markdown,
  }));
}
