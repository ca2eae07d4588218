// A job's stored log as JSON pages (GET /jobs/:id/log-chunks), for a reader that renders lines
// itself (the web UI): each chunk with its source, style and time, the position to ask from next,
// and whether the log is complete. Pages are read by the primary key (job_id, attempt, seq), so a
// 50 MiB log is paged without sorting.
import { AirlockError, ErrorCode } from "../../errors/index.js";
import type { Db } from "../catalog/index.js";
import type { LogChunk } from "../types.js";
import { jobStatus, logJobOf } from "./jobs.js";
import { readLogChunks, type LogPosition } from "./logs.js";

export const LOG_PAGE_DEFAULT = 5000;
export const LOG_PAGE_MAX = 20000;

export interface LogPage {
  chunks: Array<Omit<LogChunk, "jobId">>;
  /**
   * Where the next page starts ("<attempt>:<seq>", exclusive; "0:0" when nothing is stored yet);
   * null exactly when the log is complete.
   */
  next: string | null;
  /** The job is completed and this page holds the log's last chunk: nothing more will come. */
  complete: boolean;
}

/** "<attempt>:<seq>" as a position; undefined when malformed. */
export function parsePosition(v: string): LogPosition | undefined {
  const m = /^(\d{1,9}):(\d{1,9})$/.exec(v.trim());
  return m ? { attempt: Number(m[1]), seq: Number(m[2]) } : undefined;
}

export const formatPosition = (p: LogPosition): string => `${p.attempt}:${p.seq}`;

/**
 * The job that ran a job's key in another run attempt (the same job of a re-run): NOT_FOUND when
 * it did not run in that attempt. As `airlock logs <job> --attempt N` picks it.
 */
export async function jobOfRunAttempt(db: Db, jobId: number, runAttempt: number): Promise<number> {
  const { rows } = await db.query<{ id: string; name: string; run_id: string; found: string | null }>(
    `SELECT j.id, j.name, j.run_id,
            (SELECT o.id FROM jobs o WHERE o.run_id = j.run_id AND o.key = j.key AND o.run_attempt = $2) AS found
       FROM jobs j WHERE j.id = $1`,
    [jobId, runAttempt],
  );
  const r = rows[0];
  if (!r) throw new AirlockError(ErrorCode.NOT_FOUND, `job ${jobId} not found`);
  if (r.found === null)
    throw new AirlockError(
      ErrorCode.NOT_FOUND,
      `job ${jobId} (${r.name}) did not run in attempt ${runAttempt} of run ${r.run_id}`,
    );
  return Number(r.found);
}

/**
 * One page of the log a job shows (a reused job: the log of the job it reuses), after `after`.
 * The job's state is read before the chunks: a job completed by then has stored its whole log.
 */
export async function readLogPage(
  db: Db,
  jobId: number,
  after: LogPosition | undefined,
  limit: number,
): Promise<LogPage> {
  const logJob = await logJobOf(db, jobId);
  const done = (await jobStatus(db, logJob))?.state === "completed";
  const rows = await readLogChunks(db, logJob, after, limit + 1);
  const more = rows.length > limit;
  const chunks = rows.slice(0, limit).map(({ jobId: _, ...c }) => ({ ...c, style: c.style ?? null }));
  const last = chunks.at(-1) ?? after;
  const complete = done && !more;
  return {
    chunks,
    next: complete ? null : formatPosition(last ?? { attempt: 0, seq: 0 }),
    complete,
  };
}
