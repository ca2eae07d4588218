// A job's stored log as JSON pages (GET /jobs/:id/log-chunks), for a reader that renders lines
// itself (the web UI): each chunk with its source, style and time, the position to ask from next,
// and whether the log is complete. Pages are read by the primary key (job_id, attempt, seq), so a
// 50 MiB log is paged without sorting.
import { AirlockError, ErrorCode } from "../../errors/index.js";
import type { Db } from "../catalog/index.js";
import type { LogChunk } from "../types.js";
import { jobStatus, logJobOf } from "./jobs.js";
import type { LogPosition } from "./logs.js";
import type { ChunkStyle, LogSource } from "../../runner/index.js";

// The sizes come first (octet_length reads a stored value's length without decompressing it),
// then the text of the chunks that fit: at most $4 chunks and, after the first, $5 bytes.
const PAGE = `
WITH sizes AS (
  SELECT attempt, seq,
         sum(octet_length(data)) OVER (ORDER BY attempt, seq) - octet_length(data) AS before_bytes,
         count(*) OVER () AS fetched
    FROM (SELECT attempt, seq, data FROM log_chunks
           WHERE job_id = $1 AND (attempt, seq) > ($2, $3)
           ORDER BY attempt, seq LIMIT $4) s
)
SELECT c.attempt, c.seq, c.data, c.source, c.style, c.logged_at, z.fetched
  FROM sizes z JOIN log_chunks c ON c.job_id = $1 AND c.attempt = z.attempt AND c.seq = z.seq
 WHERE z.before_bytes = 0 OR z.before_bytes < $5
 ORDER BY c.attempt, c.seq`;

export const LOG_PAGE_DEFAULT = 5000;
export const LOG_PAGE_MAX = 20000;
/**
 * A page also ends before this many bytes of log text (it always holds at least one chunk): a
 * page of 20000 chunks of 64 KiB control characters would otherwise be a JSON answer of GiBs.
 */
export const LOG_PAGE_BYTES = 2 * 1024 * 1024;

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
  maxBytes = LOG_PAGE_BYTES,
): Promise<LogPage> {
  const logJob = await logJobOf(db, jobId);
  const done = (await jobStatus(db, logJob))?.state === "completed";
  const { rows } = await db.query<{
    attempt: number;
    seq: number;
    data: string;
    source: LogSource;
    style: ChunkStyle | null;
    logged_at: Date;
    fetched: string;
  }>(PAGE, [logJob, after?.attempt ?? -1, after?.seq ?? -1, limit + 1, maxBytes]);
  // More to come: a chunk past `limit`, or chunks left out for the byte budget.
  const more = rows.length > limit || rows.length < Number(rows[0]?.fetched ?? 0);
  const chunks = rows.slice(0, limit).map((r) => ({
    attempt: r.attempt,
    seq: r.seq,
    data: r.data,
    source: r.source,
    style: r.style ?? null,
    time: r.logged_at.toISOString(),
  }));
  const last = chunks.at(-1) ?? after;
  const complete = done && !more;
  return {
    chunks,
    next: complete ? null : formatPosition(last ?? { attempt: 0, seq: 0 }),
    complete,
  };
}
