// Authorizations: which repository may use which closed pool (Drydock's blueprint
// authorizations). One per repository × pool, or repository × pool group (covering every pool of
// the group, now and later). States: requested (made by the dispatcher the first time a job of
// the repository could run only in that pool) → approved (an administrator) → revoked; a revoked
// or requested one can be approved again. Only approved ones let the scheduler use the pool.
import { AirlockError, ErrorCode } from "../../errors/index.js";
import { iso, isoOrNull, notFound, num, type Db } from "../catalog/db.js";
import { poolId } from "./pools.js";

export const AUTHORIZATION_STATES = ["requested", "approved", "revoked"] as const;
export type AuthorizationState = (typeof AUTHORIZATION_STATES)[number];

export interface Authorization {
  id: number;
  repositoryId: number;
  repository: string;
  /** The pool it covers, or null for a group's. */
  pool: string | null;
  group: string | null;
  state: AuthorizationState;
  requestedAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
}

const SELECT = `SELECT a.*, r.name AS repository, p.name AS pool
  FROM pool_authorizations a JOIN repositories r ON r.id = a.repository_id
  LEFT JOIN pools p ON p.id = a.pool_id`;

function fromRow(r: Record<string, unknown>): Authorization {
  return {
    id: num(r.id),
    repositoryId: num(r.repository_id),
    repository: String(r.repository),
    pool: (r.pool as string | null) ?? null,
    group: (r.pool_group as string | null) ?? null,
    state: r.state as AuthorizationState,
    requestedAt: iso(r.requested_at),
    decidedBy: (r.decided_by as string | null) ?? null,
    decidedAt: isoOrNull(r.decided_at),
  };
}

export async function listAuthorizations(
  db: Db,
  filter: { repositoryId?: number; state?: AuthorizationState } = {},
): Promise<Authorization[]> {
  const { rows } = await db.query(
    `${SELECT} WHERE ($1::bigint IS NULL OR a.repository_id = $1) AND ($2::text IS NULL OR a.state = $2)
      ORDER BY a.id`,
    [filter.repositoryId ?? null, filter.state ?? null],
  );
  return rows.map(fromRow);
}

export async function getAuthorization(db: Db, id: number): Promise<Authorization> {
  const { rows } = await db.query(`${SELECT} WHERE a.id = $1`, [id]);
  if (!rows[0]) throw notFound("authorization", id);
  return fromRow(rows[0]);
}

/** Requests the pools for the repository; returns those newly requested (existing ones stay as they are). */
export async function requestAuthorizations(
  db: Db,
  repositoryId: number,
  pools: readonly string[],
): Promise<Authorization[]> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO pool_authorizations (repository_id, pool_id)
     SELECT $1, id FROM pools WHERE name = ANY($2::text[])
     ON CONFLICT (repository_id, pool_id) DO NOTHING RETURNING id`,
    [repositoryId, [...pools]],
  );
  return Promise.all(rows.map((r) => getAuthorization(db, num(r.id))));
}

/** Approves a requested or revoked authorization (idempotent). */
export async function approveAuthorization(db: Db, id: number, by: string): Promise<Authorization> {
  const { rowCount } = await db.query(
    `UPDATE pool_authorizations SET state = 'approved', decided_by = $2, decided_at = now()
      WHERE id = $1 AND state <> 'approved'`,
    [id, by],
  );
  if (!rowCount) await getAuthorization(db, id); // NOT_FOUND, or approved already
  return getAuthorization(db, id);
}

/** Grants a repository a pool or a whole pool group at once (approved; made if it did not exist). */
export async function grantAuthorization(
  db: Db,
  target: { repositoryId: number; pool?: string; group?: string },
  by: string,
): Promise<Authorization> {
  if ((target.pool === undefined) === (target.group === undefined))
    throw new AirlockError(ErrorCode.USAGE, "name either a pool or a pool group");
  const pid = target.pool === undefined ? null : await poolId(db, target.pool);
  const conflict = pid === null ? "(repository_id, pool_group)" : "(repository_id, pool_id)";
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO pool_authorizations (repository_id, pool_id, pool_group, state, decided_by, decided_at)
     VALUES ($1, $2, $3, 'approved', $4, now())
     ON CONFLICT ${conflict} DO UPDATE SET state = 'approved', decided_by = $4, decided_at = now()
     RETURNING id`,
    [target.repositoryId, pid, pid === null ? target.group : null, by],
  );
  return getAuthorization(db, num(rows[0]!.id));
}

/** Revokes (idempotent): the scheduler stops placing the repository's jobs in the pool(s) at once. */
export async function revokeAuthorization(db: Db, id: number, by: string): Promise<Authorization> {
  const { rowCount } = await db.query(
    `UPDATE pool_authorizations SET state = 'revoked', decided_by = $2, decided_at = now()
      WHERE id = $1 AND state <> 'revoked'`,
    [id, by],
  );
  if (!rowCount) await getAuthorization(db, id);
  return getAuthorization(db, id);
}

/** Jobs of the authorization's repository holding machines in the pool(s) it covers. */
export async function jobsUnder(db: Db, a: Authorization): Promise<number[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT j.id FROM jobs j JOIN runs r ON r.id = j.run_id JOIN nodes n ON n.id = j.node_id
       JOIN pools p ON p.id = n.pool_id
      WHERE r.repository_id = $1 AND j.state IN ('assigned', 'running')
        AND (p.name = $2 OR p.pool_group = $3) ORDER BY j.id`,
    [a.repositoryId, a.pool, a.group],
  );
  return rows.map((r) => num(r.id));
}

/** Closed pools each repository may use now: approved for the pool, or for its group. */
export async function authorizedPools(
  db: Db,
  repositoryIds: readonly number[],
): Promise<Map<number, string[]>> {
  const { rows } = await db.query<{ repository_id: string; name: string }>(
    `SELECT DISTINCT a.repository_id, p.name FROM pool_authorizations a
       JOIN pools p ON p.id = a.pool_id OR (a.pool_group IS NOT NULL AND p.pool_group = a.pool_group)
      WHERE a.state = 'approved' AND a.repository_id = ANY($1::bigint[])`,
    [[...repositoryIds]],
  );
  const out = new Map<number, string[]>();
  for (const r of rows) {
    const id = num(r.repository_id);
    out.set(id, [...(out.get(id) ?? []), r.name]);
  }
  return out;
}
