// Stored log chunks of a job, in order (attempt, then seq), read in pages so a 50 MiB log is
// never held in memory at once.
import type { Db } from "../catalog/index.js";
import type { ChunkStyle } from "../../runner/format.js";
import type { LogSource } from "../../runner/types.js";
import type { LogChunk } from "../types.js";

/** Data of one `event: log` of the log stream (GET /jobs/:id/logs/stream): the job is in the URL. */
export type LogStreamChunk = Omit<LogChunk, "jobId">;

/** Data of the stream's last event, `event: end`, sent once the job is completed. */
export interface LogStreamEnd {
  conclusion: string | null;
}

export interface LogPosition {
  attempt: number;
  seq: number;
}

/** Orders positions: attempts first, then seq within an attempt. */
export function comparePositions(a: LogPosition, b: LogPosition): number {
  return a.attempt - b.attempt || a.seq - b.seq;
}

/** Chunks after `after` (exclusive), at most `limit` of them. */
export async function readLogChunks(
  db: Db,
  jobId: number,
  after?: LogPosition,
  limit = 1000,
): Promise<LogChunk[]> {
  const { rows } = await db.query<{
    attempt: number;
    seq: number;
    data: string;
    source: LogSource;
    style: ChunkStyle | null;
    logged_at: Date;
  }>(
    `SELECT attempt, seq, data, source, style, logged_at FROM log_chunks
     WHERE job_id = $1 AND (attempt, seq) > ($2, $3)
     ORDER BY attempt, seq LIMIT $4`,
    [jobId, after?.attempt ?? -1, after?.seq ?? -1, limit],
  );
  return rows.map((r) => ({
    jobId,
    attempt: r.attempt,
    seq: r.seq,
    data: r.data,
    source: r.source,
    style: r.style,
    time: r.logged_at.toISOString(),
  }));
}

/** Every chunk after `after`, page by page. */
export async function* allLogChunks(db: Db, jobId: number, after?: LogPosition): AsyncGenerator<LogChunk> {
  let pos = after;
  for (;;) {
    const page = await readLogChunks(db, jobId, pos);
    yield* page;
    const last = page.at(-1);
    if (!last || page.length < 1000) return;
    pos = last;
  }
}

/**
 * Each line of a chunk prefixed with its time as GitHub's raw logs show it: ISO 8601 UTC with
 * seven fractional digits ("2026-01-02T03:04:05.6780000Z line").
 */
export function timestampLines(data: string, time: string): string {
  const stamp = time.replace(/\.(\d{3})Z$/, (_m, ms: string) => `.${ms}0000Z`);
  return data.replace(/[^\n]*\n|[^\n]+$/g, (line) => `${stamp} ${line}`);
}
