// Job logs: chunks stored once per (job, attempt, seq), so an agent resending after a reconnect
// never duplicates output. Each attempt has a byte budget (the cap; assignJobs resets it): the
// chunk that crosses it is cut and followed by one visible marker, later chunks are dropped while
// the job keeps running. Chunks of an attempt that is no longer the job's current one are dropped.
// Each chunk carries its source (migration 014): 'system' for Airlock's own lines, 'step' for what
// the job wrote; a caller that does not say stores 'step', the untrusted side. Each chunk also has
// its time (migration 026, logTime): when the node says it was written, never later than now, and
// its style (migration 028): the LineStyle of its event's lines, "group-end" for the empty chunk
// that ends a group, null when it has none. An empty chunk costs EMPTY_CHUNK_BYTES of the budget
// (a row is stored all the same: a job looping on ::endgroup:: must hit the cap too).
import type { ChunkStyle } from "../runner/format.js";
import type { LogSource } from "../runner/types.js";
import { run } from "./sql.js";
import type { JobRef, Queryable } from "./types.js";

export type { LogSource };

/** What an empty chunk (a group's end) counts against the log budget. */
export const EMPTY_CHUNK_BYTES = 16;

/** A chunk's weight against the budget: its bytes, EMPTY_CHUNK_BYTES when it has none. */
export const chunkWeight = (data: string): number => Buffer.byteLength(data) || EMPTY_CHUNK_BYTES;

// Common case, one round trip: the chunk fits. The job row is locked first, so appends to one job
// serialise and the budget check and ON CONFLICT both see the latest committed state.
const APPEND = `
WITH j AS (
  SELECT id, log_bytes, log_truncated FROM jobs WHERE id = $1 AND attempt = $2 FOR UPDATE
), ins AS (
  INSERT INTO log_chunks (job_id, attempt, seq, data, source, logged_at, style)
  SELECT $1, $2, $3, $4, $7, $8, $9 FROM j WHERE NOT j.log_truncated AND j.log_bytes + $5 <= $6
  ON CONFLICT DO NOTHING
  RETURNING 1
), grow AS (
  UPDATE jobs SET log_bytes = jobs.log_bytes + $5 WHERE id = $1 AND EXISTS (SELECT 1 FROM ins)
)
SELECT j.log_bytes, j.log_truncated, (SELECT count(*) FROM ins)::int AS stored FROM j`;

// The chunk crosses the budget: store what fits plus the marker, only if nothing changed since.
const TRUNCATE = `
WITH j AS (
  SELECT id FROM jobs WHERE id = $1 AND attempt = $2 AND log_bytes = $5 AND NOT log_truncated FOR UPDATE
), ins AS (
  INSERT INTO log_chunks (job_id, attempt, seq, data, source, logged_at, style)
  SELECT $1, $2, $3, $4, $7, $8, $9 FROM j
  ON CONFLICT DO NOTHING
  RETURNING 1
), mark AS (
  UPDATE jobs SET log_bytes = jobs.log_bytes + $6, log_truncated = true WHERE id = $1 AND EXISTS (SELECT 1 FROM ins)
)
SELECT (SELECT count(*) FROM j)::int AS matched, (SELECT count(*) FROM ins)::int AS stored`;

export interface AppendResult {
  /** False for a duplicate seq, a stale attempt, an unknown job or a log already truncated. */
  stored: boolean;
  /** The job's log (this attempt) is truncated now. */
  truncated: boolean;
  /** What was stored ("" when nothing): the chunk, or its part under the cap plus the marker. */
  data: string;
}

/**
 * A log line's time: when the node says it wrote it (ms since the epoch), but never in the future
 * nor more than a day back (a node's clock is its own); now when it does not say.
 */
export function logTime(nodeMs?: unknown, now = Date.now()): Date {
  if (typeof nodeMs !== "number" || !Number.isFinite(nodeMs)) return new Date(now);
  return new Date(Math.min(now, Math.max(now - 86_400_000, Math.trunc(nodeMs))));
}

export async function appendLog(
  db: Queryable,
  jobId: number,
  attempt: number,
  seq: number,
  data: string,
  capBytes: number,
  source: LogSource = "step",
  time: Date = new Date(),
  style: ChunkStyle | null = null,
): Promise<AppendResult> {
  const bytes = chunkWeight(data);
  for (;;) {
    const { rows } = await run<{ log_bytes: string; log_truncated: boolean; stored: number }>(
      db,
      "log.append",
      APPEND,
      [jobId, attempt, seq, data, bytes, capBytes, source, time, style],
    );
    const row = rows[0];
    if (!row) return { stored: false, truncated: false, data: "" };
    if (row.stored === 1) return { stored: true, truncated: false, data };
    const used = Number(row.log_bytes);
    if (row.log_truncated || used + bytes <= capBytes) {
      // Already truncated, or the chunk fit and so was a duplicate.
      return { stored: false, truncated: row.log_truncated, data: "" };
    }
    const cut = cutToBytes(data, capBytes - used) + truncationMarker(capBytes);
    const done = await run<{ matched: number; stored: number }>(db, "log.truncate", TRUNCATE, [
      jobId,
      attempt,
      seq,
      cut,
      String(used),
      Buffer.byteLength(cut),
      source,
      time,
      style,
    ]);
    const r = done.rows[0];
    if (r?.matched === 1) {
      return r.stored === 1
        ? { stored: true, truncated: true, data: cut }
        : { stored: false, truncated: false, data: "" };
    }
    // Another append changed the budget in between: decide again from the new state.
  }
}

// The agent enforced the cap itself and says so: store the marker once and flag the log, whatever
// the budget (the marker is small); nothing when the log is truncated already.
const MARK = `
WITH j AS (
  SELECT id FROM jobs WHERE id = $1 AND attempt = $2 AND NOT log_truncated FOR UPDATE
), ins AS (
  INSERT INTO log_chunks (job_id, attempt, seq, data, source)
  SELECT $1, $2, $3, $4, 'system' FROM j
  ON CONFLICT DO NOTHING
  RETURNING 1
), mark AS (
  UPDATE jobs SET log_bytes = jobs.log_bytes + $5, log_truncated = true WHERE id = $1 AND EXISTS (SELECT 1 FROM ins)
)
SELECT (SELECT count(*) FROM ins)::int AS stored`;

/** Records that the agent cut the log at the cap; returns the stored marker ("" when none). */
export async function markLogTruncated(
  db: Queryable,
  jobId: number,
  attempt: number,
  seq: number,
  capBytes: number,
): Promise<string> {
  const marker = truncationMarker(capBytes);
  const { rows } = await run<{ stored: number }>(db, "log.markTruncated", MARK, [
    jobId,
    attempt,
    seq,
    marker,
    Buffer.byteLength(marker),
  ]);
  return rows[0]?.stored === 1 ? marker : "";
}

/** One chunk for appendLogs; `style` is its lines' style (null: none, e.g. a marker). */
export interface LogInput {
  seq: number;
  data: string;
  source?: LogSource;
  time?: Date;
  style?: ChunkStyle | null;
}

// Many chunks of one attempt at once (an agent's burst of log lines): the budget is decided here
// from the locked row, the chunks that fit go in with one statement. Must run in a transaction.
const LOCK = `SELECT log_bytes, log_truncated FROM jobs WHERE id = $1 AND attempt = $2 FOR UPDATE`;
const APPEND_MANY = `
WITH ins AS (
  INSERT INTO log_chunks (job_id, attempt, seq, data, source, logged_at, style)
  SELECT $1, $2, c.seq, c.data, c.source, c.at, c.style
    FROM unnest($3::integer[], $4::text[], $6::text[], $7::timestamptz[], $8::text[])
      AS c(seq, data, source, at, style)
  ON CONFLICT DO NOTHING
  RETURNING seq, CASE WHEN octet_length(data) = 0 THEN ${EMPTY_CHUNK_BYTES} ELSE octet_length(data) END AS bytes
), grow AS (
  UPDATE jobs SET log_bytes = jobs.log_bytes + (SELECT COALESCE(sum(bytes), 0) FROM ins),
                  log_truncated = jobs.log_truncated OR $5
  WHERE id = $1 AND EXISTS (SELECT 1 FROM ins)
)
SELECT COALESCE(array_agg(seq), '{}') AS seqs FROM ins`;

/**
 * appendLog for consecutive chunks of one job attempt, in seq order, in ONE transaction the caller
 * holds (`db` is its client). Returns what was stored, per seq (absent: not stored).
 */
export async function appendLogs(
  db: Queryable,
  jobId: number,
  attempt: number,
  chunks: LogInput[],
  capBytes: number,
): Promise<Map<number, string>> {
  const stored = new Map<number, string>();
  if (chunks.length === 0) return stored;
  const { rows } = await run<{ log_bytes: string; log_truncated: boolean }>(db, "log.lock", LOCK, [
    jobId,
    attempt,
  ]);
  const row = rows[0];
  if (!row || row.log_truncated) return stored;
  let used = Number(row.log_bytes);
  let truncated = false;
  const put: LogInput[] = [];
  for (const c of chunks) {
    const bytes = chunkWeight(c.data);
    if (used + bytes <= capBytes) {
      put.push(c);
      used += bytes;
      continue;
    }
    put.push({ ...c, data: cutToBytes(c.data, capBytes - used) + truncationMarker(capBytes) });
    truncated = true;
    break;
  }
  const done = await run<{ seqs: number[] }>(db, "log.appendMany", APPEND_MANY, [
    jobId,
    attempt,
    put.map((c) => c.seq),
    put.map((c) => c.data),
    truncated,
    put.map((c) => c.source ?? "step"),
    put.map((c) => c.time ?? new Date()),
    put.map((c) => c.style ?? null),
  ]);
  const inserted = new Set(done.rows[0]?.seqs ?? []);
  for (const c of put) if (inserted.has(c.seq)) stored.set(c.seq, c.data);
  return stored;
}

export function truncationMarker(capBytes: number): string {
  const mib = capBytes / (1024 * 1024);
  const size = mib >= 1 ? `${Number(mib.toFixed(1))} MiB` : `${capBytes} bytes`;
  return `… log truncated: the job's output exceeded ${size}; later output was dropped …\n`;
}

/** The longest prefix of `text` within `max` bytes, ending at a line end when there is one. */
export function cutToBytes(text: string, max: number): string {
  const buf = Buffer.from(text);
  if (buf.length <= max) return text;
  let end = Math.max(0, max);
  while (end > 0 && ((buf[end] ?? 0) & 0xc0) === 0x80) end--; // never split a UTF-8 sequence
  const head = buf.subarray(0, end).toString();
  const nl = head.lastIndexOf("\n");
  if (nl >= 0) return head.slice(0, nl + 1);
  return head === "" ? "" : `${head}\n`;
}

const LAST_SEQ = `
SELECT r.job_id, r.attempt,
       COALESCE((SELECT max(c.seq) FROM log_chunks c WHERE c.job_id = r.job_id AND c.attempt = r.attempt), 0) AS seq
FROM unnest($1::bigint[], $2::integer[]) WITH ORDINALITY AS r(job_id, attempt, ord)
ORDER BY r.ord`;

/** The last stored seq per job attempt (0 when none): an agent resends everything after it. */
export async function lastStoredSeq(db: Queryable, refs: JobRef[]): Promise<Array<JobRef & { seq: number }>> {
  if (refs.length === 0) return [];
  const { rows } = await run<{ job_id: string; attempt: number; seq: number }>(db, "log.lastSeq", LAST_SEQ, [
    refs.map((r) => r.jobId),
    refs.map((r) => r.attempt),
  ]);
  return rows.map((r) => ({ jobId: Number(r.job_id), attempt: r.attempt, seq: r.seq }));
}

const READ_ALL = `SELECT COALESCE(string_agg(data, '' ORDER BY attempt, seq), '') AS log FROM log_chunks WHERE job_id = $1`;

/** The whole log of a job, every attempt in order, as one text. */
export async function readLog(db: Queryable, jobId: number): Promise<string> {
  const { rows } = await run<{ log: string }>(db, "log.readAll", READ_ALL, [jobId]);
  return rows[0]?.log ?? "";
}

const READ_CHUNKS = `
SELECT attempt, seq, data, source FROM log_chunks
WHERE job_id = $1 AND (attempt, seq) > ($2::integer, $3::integer)
ORDER BY attempt, seq`;

/** Chunks in order, after the given position (for a follower catching up before going live). */
export async function readLogChunks(
  db: Queryable,
  jobId: number,
  after?: { attempt: number; seq: number },
): Promise<Array<{ attempt: number; seq: number; data: string; source: LogSource }>> {
  const { rows } = await run<{ attempt: number; seq: number; data: string; source: LogSource }>(
    db,
    "log.readChunks",
    READ_CHUNKS,
    [jobId, after?.attempt ?? -1, after?.seq ?? -1],
  );
  return rows;
}
