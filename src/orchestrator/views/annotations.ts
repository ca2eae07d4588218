// The annotations of a run attempt (GET /runs/:id/annotations): the stored log chunks of its jobs
// whose style is error, warning or notice (`::error::` and co., and the runner's own), read by
// the partial index of migration 028 instead of the logs. A reused job contributes the log of the
// job it keeps the result of, under its own id (its log page shows that log).
import { AirlockError, ErrorCode } from "../../errors/index.js";
import type { Db } from "../catalog/index.js";

export const ANNOTATIONS_MAX = 200;

export interface Annotation {
  /** The job of the attempt (open its log with GET /jobs/:id/log-chunks). */
  jobId: number;
  jobName: string;
  /** The chunk's position in that job's log. */
  attempt: number;
  seq: number;
  level: "error" | "warning" | "notice";
  /** The annotation as its log lines show it (without the last line break). */
  text: string;
}

export interface RunAnnotations {
  runAttempt: number;
  annotations: Annotation[];
  /** More annotations exist than were returned (at most ANNOTATIONS_MAX). */
  truncated: boolean;
}

export async function runAnnotations(db: Db, runId: number, attempt?: number): Promise<RunAnnotations> {
  const { rows: runs } = await db.query<{ attempt: number }>("SELECT attempt FROM runs WHERE id = $1", [
    runId,
  ]);
  const current = runs[0]?.attempt;
  if (current === undefined) throw new AirlockError(ErrorCode.NOT_FOUND, `run ${runId} not found`);
  const shown = attempt ?? current;
  if (shown < 1 || shown > current)
    throw new AirlockError(
      ErrorCode.NOT_FOUND,
      `run ${runId} has no attempt ${shown} (attempts 1 to ${current})`,
    );
  const { rows } = await db.query<{
    job_id: string;
    job_name: string;
    attempt: number;
    seq: number;
    style: Annotation["level"];
    data: string;
  }>(
    `SELECT j.id AS job_id, j.name AS job_name, c.attempt, c.seq, c.style, c.data
       FROM jobs j
       JOIN log_chunks c ON c.job_id = coalesce(j.reused_from, j.id)
      WHERE j.run_id = $1 AND j.run_attempt = $2 AND c.style IN ('error', 'warning', 'notice')
      ORDER BY j.id, c.attempt, c.seq
      LIMIT $3`,
    [runId, shown, ANNOTATIONS_MAX + 1],
  );
  return {
    runAttempt: shown,
    annotations: rows.slice(0, ANNOTATIONS_MAX).map((r) => ({
      jobId: Number(r.job_id),
      jobName: r.job_name,
      attempt: r.attempt,
      seq: r.seq,
      level: r.style,
      text: r.data.replace(/\n$/, ""),
    })),
    truncated: rows.length > ANNOTATIONS_MAX,
  };
}
