// Reading the audit log: newest first, filtered by action (a dotted prefix), actor, object and
// time, paged with `before` (a seq: the next page is everything below the last one shown).
import type { AuditEntry, JsonValue } from "./entry.js";
import type { Db } from "./append.js";

export interface AuditFilter {
  /** `repository` matches `repository` and `repository.*`; a trailing dot (`user.login.`) only the latter. */
  action?: string;
  actorKind?: string;
  actorId?: string;
  objectKind?: string;
  objectId?: string;
  /** ISO times, inclusive from, exclusive until. */
  since?: string;
  until?: string;
  /** Only entries with a smaller seq (paging). */
  before?: number;
  /** Default 100, at most 1000. */
  limit?: number;
}

/** The columns as the verifier and the listing read them: `at` as the exact text that was hashed. */
export const ENTRY_COLUMNS = `seq, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at,
  actor_kind, actor_id, actor_display, action, object_kind, object_id, client_address, details::text AS details,
  prev_hash, hash`;

/** A row as ENTRY_COLUMNS selects it (bigint and jsonb as text). */
export interface AuditRow {
  seq: string;
  at: string;
  actor_kind: string;
  actor_id: string | null;
  actor_display: string | null;
  action: string;
  object_kind: string | null;
  object_id: string | null;
  client_address: string | null;
  details: string;
  prev_hash: string;
  hash: string;
}

export function entryFromRow(r: AuditRow): AuditEntry {
  return {
    seq: Number(r.seq),
    at: r.at,
    actor: { kind: r.actor_kind, id: r.actor_id, display: r.actor_display },
    action: r.action,
    object: r.object_kind === null ? null : { kind: r.object_kind, id: r.object_id },
    clientAddress: r.client_address,
    details: JSON.parse(r.details) as { [key: string]: JsonValue },
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

const escapeLike = (s: string): string => s.replace(/[\\%_]/g, (c) => `\\${c}`);

export async function listAudit(db: Db, f: AuditFilter = {}): Promise<AuditEntry[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: (p: string) => string, value: unknown): void => {
    params.push(value);
    where.push(sql(`$${params.length}`));
  };
  if (f.action) {
    params.push(f.action, `${escapeLike(f.action.endsWith(".") ? f.action : `${f.action}.`)}%`);
    where.push(`(action = $${params.length - 1} OR action LIKE $${params.length})`);
  }
  if (f.actorKind !== undefined) add((p) => `actor_kind = ${p}`, f.actorKind);
  if (f.actorId !== undefined) add((p) => `actor_id = ${p}`, f.actorId);
  if (f.objectKind !== undefined) add((p) => `object_kind = ${p}`, f.objectKind);
  if (f.objectId !== undefined) add((p) => `object_id = ${p}`, f.objectId);
  if (f.since !== undefined) add((p) => `at >= ${p}::timestamptz`, f.since);
  if (f.until !== undefined) add((p) => `at < ${p}::timestamptz`, f.until);
  if (f.before !== undefined) add((p) => `seq < ${p}`, f.before);
  params.push(Math.min(Math.max(f.limit ?? 100, 1), 1000));
  const { rows } = await db.query<AuditRow>(
    `SELECT ${ENTRY_COLUMNS} FROM audit_log
     ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
     ORDER BY seq DESC LIMIT $${params.length}`,
    params,
  );
  return rows.map(entryFromRow);
}
