// Appending to the audit log. Appends from every orchestrator process are serialised by a
// transaction-level advisory lock: under it the last entry's seq and hash are read, the new entry
// is hashed with the next seq and inserted, and the lock goes with the transaction. Inside a
// caller's transaction the entry commits or rolls back with the caller's change (and the lock is
// held until then, so keep such transactions short); with a pool, the append is its own
// transaction.
import pg from "pg";
import { AirlockError, ErrorCode } from "../errors/index.js";
import {
  ACTION_PATTERN,
  GENESIS_HASH,
  KIND_PATTERN,
  hashEntry,
  normalizeDetails,
  wellFormed,
  type AuditEntry,
  type AuditInput,
} from "./entry.js";

/** A pool (the append runs in its own transaction) or a connected client (in a transaction or not). */
export type Db = pg.Pool | pg.PoolClient | pg.Client;

/** Shared by every process appending to the same database. */
export const AUDIT_LOCK_KEY = "7361626657432008";

const AT_TEXT = `to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** Appends one entry and returns it as stored. */
export async function appendAudit(db: Db, input: AuditInput): Promise<AuditEntry> {
  const draft = prepare(input);
  if (db instanceof pg.Pool) {
    const client = await db.connect();
    try {
      return await ownTransaction(client, draft);
    } finally {
      client.release();
    }
  }
  // A client: inside the caller's transaction if there is one (a savepoint keeps a failed append
  // from spoiling it), else in a transaction of our own.
  try {
    await db.query("SAVEPOINT airlock_audit_append");
  } catch (err) {
    if ((err as { code?: string }).code === "25P01") return ownTransaction(db, draft);
    throw err;
  }
  try {
    const entry = await insert(db, draft);
    await db.query("RELEASE SAVEPOINT airlock_audit_append");
    return entry;
  } catch (err) {
    await db.query("ROLLBACK TO SAVEPOINT airlock_audit_append").catch(() => undefined);
    throw err;
  }
}

async function ownTransaction(client: pg.PoolClient | pg.Client, draft: Draft): Promise<AuditEntry> {
  await client.query("BEGIN");
  try {
    const entry = await insert(client, draft);
    await client.query("COMMIT");
    return entry;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  }
}

type Draft = Omit<AuditEntry, "seq" | "at" | "prevHash" | "hash">;

async function insert(client: pg.PoolClient | pg.Client, d: Draft): Promise<AuditEntry> {
  await client.query("SELECT pg_advisory_xact_lock($1)", [AUDIT_LOCK_KEY]);
  // clock_timestamp(), not now(): read after the lock, so times follow seq order (now() would be
  // the caller's transaction start, possibly before the previous entry).
  const { rows } = await client.query<{ seq: string | null; hash: string | null; at: string }>(
    `SELECT (SELECT seq FROM audit_log ORDER BY seq DESC LIMIT 1) AS seq,
            (SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1) AS hash,
            ${AT_TEXT} AS at`,
  );
  const last = rows[0];
  if (!last) throw new AirlockError(ErrorCode.DB_FAILED, "audit log: no answer reading its head");
  const partial = { ...d, seq: Number(last.seq ?? 0) + 1, at: last.at, prevHash: last.hash ?? GENESIS_HASH };
  const entry: AuditEntry = { ...partial, hash: hashEntry(partial) };
  await client.query(
    `INSERT INTO audit_log (seq, at, actor_kind, actor_id, actor_display, action, object_kind, object_id,
       client_address, details, prev_hash, hash)
     VALUES ($1, $2::timestamptz, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12)`,
    [
      entry.seq,
      entry.at,
      entry.actor.kind,
      entry.actor.id,
      entry.actor.display,
      entry.action,
      entry.object?.kind ?? null,
      entry.object?.id ?? null,
      entry.clientAddress,
      JSON.stringify(entry.details),
      entry.prevHash,
      entry.hash,
    ],
  );
  return entry;
}

const idText = (v: string | number | null | undefined): string | null =>
  v === null || v === undefined ? null : String(v);

/** Checks and normalises what the caller gave; a bad action or kind is a bug in the caller. */
function prepare(input: AuditInput): Draft {
  const problems: string[] = [];
  if (!ACTION_PATTERN.test(input.action) || input.action.length > 100)
    problems.push(`action '${input.action}' is not dotted lower-case (e.g. repository.created)`);
  if (!KIND_PATTERN.test(input.actor.kind)) problems.push(`actor kind '${input.actor.kind}' is invalid`);
  if (input.object && !KIND_PATTERN.test(input.object.kind))
    problems.push(`object kind '${input.object.kind}' is invalid`);
  if (problems.length > 0)
    throw new AirlockError(ErrorCode.USAGE, `audit entry refused: ${problems.join("; ")}`);
  // Clipped to the column's bound, then made well-formed (a cut may split a surrogate pair).
  const clip = (s: string | null, max: number): string | null =>
    s === null ? null : wellFormed(s.slice(0, max));
  return {
    actor: {
      kind: input.actor.kind,
      id: clip(idText(input.actor.id), 200),
      display: clip(idText(input.actor.display), 500),
    },
    action: input.action,
    object: input.object ? { kind: input.object.kind, id: clip(idText(input.object.id), 500) } : null,
    clientAddress: clip(idText(input.clientAddress), 100),
    details: normalizeDetails(input.details),
  };
}
