// The cache entry rows (migrations 035, 041). States:
//   uploading -> finalized   (FinalizeCacheEntryUpload; enforced by `WHERE state = 'uploading'`)
// A finalized entry is immutable: the same key and version in the same scope again is refused
// (CONFLICT, the client's "already exists"); eviction deletes the row. Each entry records the
// worker trust of the job attempt that saved it (migration 041), and a scope holds one slot per
// worker trust: a caller on a trusted worker sees only trusted workers' entries.
import { AirlockError, ErrorCode } from "../errors/index.js";
import type { Caller, Db } from "../artifacts/index.js";
import type { Scope, Tier } from "./scope.js";

export interface CacheEntry {
  id: number;
  repositoryId: number;
  tier: Tier;
  ref: string;
  key: string;
  version: string;
  /** The saving attempt's worker trust as recorded at its assignment (migration 041). */
  workerTrust: Tier;
  jobId: number | null;
  jobAttempt: number;
  size: number | null;
  sha256: string | null;
  state: "uploading" | "finalized";
  createdAt: Date;
  finalizedAt: Date | null;
  lastAccessedAt: Date;
}

interface Row {
  id: string;
  repository_id: string;
  trust_tier: Tier;
  ref: string;
  key: string;
  version: string;
  worker_trust: Tier;
  job_id: string | null;
  job_attempt: number;
  size: string | null;
  sha256: string | null;
  state: "uploading" | "finalized";
  created_at: Date;
  finalized_at: Date | null;
  last_accessed_at: Date;
}

const toEntry = (r: Row): CacheEntry => ({
  id: Number(r.id),
  repositoryId: Number(r.repository_id),
  tier: r.trust_tier,
  ref: r.ref,
  key: r.key,
  version: r.version,
  workerTrust: r.worker_trust,
  jobId: r.job_id === null ? null : Number(r.job_id),
  jobAttempt: r.job_attempt,
  size: r.size === null ? null : Number(r.size),
  sha256: r.sha256,
  state: r.state,
  createdAt: r.created_at,
  finalizedAt: r.finalized_at,
  lastAccessedAt: r.last_accessed_at,
});

/** GitHub's rules (cache.js checkKey): at most 512 characters, no comma; here also no control characters. */
const hasControl = (s: string): boolean =>
  [...s].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f);

export function checkKey(key: unknown): string {
  if (typeof key !== "string" || key.length === 0 || key.length > 512 || key.includes(",") || hasControl(key))
    throw new AirlockError(
      ErrorCode.ARTIFACT_INVALID,
      "a cache key is 1-512 characters without commas or control characters",
    );
  return key;
}

export function checkVersion(version: unknown): string {
  if (typeof version !== "string" || !/^[A-Za-z0-9._-]{1,512}$/.test(version))
    throw new AirlockError(ErrorCode.ARTIFACT_INVALID, "a cache version is 1-512 characters [A-Za-z0-9._-]");
  return version;
}

/**
 * A new uploading entry in the caller's write scope, in the slot of the caller's worker trust;
 * undefined when that slot of the key and version is taken.
 */
export async function insertEntry(
  db: Db,
  c: Caller,
  scope: Scope,
  key: string,
  version: string,
): Promise<CacheEntry | undefined> {
  const { rows } = await db.query<Row>(
    `INSERT INTO cache_entries (repository_id, trust_tier, ref, key, version, run_id, job_id, job_attempt, node_id,
                                worker_trust)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     ON CONFLICT (repository_id, trust_tier, ref, key, version, worker_trust) DO NOTHING RETURNING *`,
    [
      c.repositoryId,
      scope.tier,
      scope.ref,
      key,
      version,
      c.runId,
      c.jobId,
      c.attempt,
      c.nodeId,
      c.workerTrust,
    ],
  );
  return rows[0] ? toEntry(rows[0]) : undefined;
}

/** The entry of (key, version) in `scope` saved by a worker of trust `workerTrust`. */
export async function entryIn(
  db: Db,
  repositoryId: number,
  scope: Scope,
  key: string,
  version: string,
  workerTrust: Tier,
): Promise<CacheEntry | undefined> {
  const { rows } = await db.query<Row>(
    `SELECT * FROM cache_entries
      WHERE repository_id = $1 AND trust_tier = $2 AND ref = $3 AND key = $4 AND version = $5
        AND worker_trust = $6`,
    [repositoryId, scope.tier, scope.ref, key, version, workerTrust],
  );
  return rows[0] ? toEntry(rows[0]) : undefined;
}

export async function entryById(db: Db, id: number): Promise<CacheEntry | undefined> {
  const { rows } = await db.query<Row>(`SELECT * FROM cache_entries WHERE id = $1`, [id]);
  return rows[0] ? toEntry(rows[0]) : undefined;
}

/**
 * GitHub's matching: scope by scope in order; within one, the exact key first, then the newest
 * entry whose key starts with the key, then with each restore key in turn. Same version only.
 * The match's last access becomes now (the LRU clock). With `trustedWorkersOnly` (the caller runs on
 * a trusted worker) only entries saved by trusted workers match.
 */
export async function lookup(
  db: Db,
  repositoryId: number,
  scopes: Scope[],
  keys: string[],
  version: string,
  trustedWorkersOnly: boolean,
): Promise<CacheEntry | undefined> {
  const { rows } = await db.query<Row>(
    `WITH s AS (SELECT * FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS s(tier, ref, si)),
          k AS (SELECT * FROM unnest($4::text[]) WITH ORDINALITY AS k(prefix, ki)),
          hit AS (
            SELECT e.id FROM cache_entries e
              JOIN s ON s.tier = e.trust_tier AND s.ref = e.ref
              JOIN k ON left(e.key, length(k.prefix)) = k.prefix
             WHERE e.repository_id = $1 AND e.version = $5 AND e.state = 'finalized'
               AND (NOT $6::boolean OR e.worker_trust = 'trusted')
             ORDER BY s.si, CASE WHEN e.key = $4[1] THEN 0 ELSE k.ki END, e.finalized_at DESC, e.id DESC
             LIMIT 1)
     UPDATE cache_entries SET last_accessed_at = now() FROM hit WHERE cache_entries.id = hit.id
     RETURNING cache_entries.*`,
    [repositoryId, scopes.map((s) => s.tier), scopes.map((s) => s.ref), keys, version, trustedWorkersOnly],
  );
  return rows[0] ? toEntry(rows[0]) : undefined;
}

/** Bytes of the finalized entries of (repository, tier): what the quota counts. */
export async function usedBytes(db: Db, repositoryId: number, tier: Tier): Promise<number> {
  const { rows } = await db.query<{ n: string | null }>(
    `SELECT sum(size) AS n FROM cache_entries WHERE repository_id = $1 AND trust_tier = $2 AND state = 'finalized'`,
    [repositoryId, tier],
  );
  return Number(rows[0]?.n ?? 0);
}

/** The finalized entries of (repository, tier), least recently used first. */
export async function lruEntries(db: Db, repositoryId: number, tier: Tier): Promise<CacheEntry[]> {
  const { rows } = await db.query<Row>(
    `SELECT * FROM cache_entries WHERE repository_id = $1 AND trust_tier = $2 AND state = 'finalized'
      ORDER BY last_accessed_at, id`,
    [repositoryId, tier],
  );
  return rows.map(toEntry);
}

/** uploading -> finalized. False when the row is not (or no longer) uploading with bytes. */
export async function markFinalized(db: Db, id: number): Promise<boolean> {
  const r = await db.query(
    `UPDATE cache_entries SET state = 'finalized', finalized_at = now(), last_accessed_at = now()
      WHERE id = $1 AND state = 'uploading' AND sha256 IS NOT NULL`,
    [id],
  );
  return r.rowCount === 1;
}
