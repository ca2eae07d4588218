// Pools of nodes (docs/security.md "Pools and authorizations"): each has a trust tier (low: runs
// untrusted runs' jobs; high: trusted ones), an optional group (authorizations for the group cover
// it) and `open` (every repository may use it without an authorization; only `default` by
// default). Nodes are placed in a pool by an administrator, never by their agent. A high-trust pool
// may be a deploy pool (`deploy`, migration 040): jobs on its nodes consume only the artifacts the
// promotion gate allows, and wait for their run's rebuilds (docs/integrity.md "Promotion").
import { AirlockError, ErrorCode } from "../../errors/index.js";
import { iso, notFound, num, uniquely, type Db } from "../catalog/db.js";

export const POOL_TRUSTS = ["low", "high"] as const;
export type PoolTrust = (typeof POOL_TRUSTS)[number];
export const DEFAULT_POOL_NAME = "default";

export interface Pool {
  id: number;
  name: string;
  trust: PoolTrust;
  group: string | null;
  open: boolean;
  /** A deploy pool: its jobs are gated like deployments (high-trust pools only). */
  deploy: boolean;
  /** Nodes in the pool. */
  nodes: number;
  createdAt: string;
}

export interface NewPool {
  name: string;
  trust: PoolTrust;
  group?: string | null;
  open?: boolean;
  deploy?: boolean;
}

const SELECT = `SELECT p.*, (SELECT count(*) FROM nodes n WHERE n.pool_id = p.id) AS nodes FROM pools p`;

function fromRow(r: Record<string, unknown>): Pool {
  return {
    id: num(r.id),
    name: String(r.name),
    trust: r.trust as PoolTrust,
    group: (r.pool_group as string | null) ?? null,
    open: Boolean(r.open),
    deploy: Boolean(r.deploy),
    nodes: num(r.nodes ?? 0),
    createdAt: iso(r.created_at),
  };
}

export async function listPools(db: Db): Promise<Pool[]> {
  const { rows } = await db.query(`${SELECT} ORDER BY p.name`);
  return rows.map(fromRow);
}

export async function getPool(db: Db, name: string): Promise<Pool> {
  const { rows } = await db.query(`${SELECT} WHERE p.name = $1`, [name]);
  if (!rows[0]) throw notFound("pool", name);
  return fromRow(rows[0]);
}

/** Untrusted work never holds deploy credentials: only a high-trust pool may be a deploy pool. */
function lowTrustDeploy(name: string): AirlockError {
  return new AirlockError(
    ErrorCode.POOL_INVALID,
    `pool ${name} is low-trust and cannot be a deploy pool (only high-trust pools can)`,
  );
}

export async function createPool(db: Db, input: NewPool): Promise<Pool> {
  if (input.deploy && input.trust !== "high") throw lowTrustDeploy(input.name);
  await uniquely(`pool ${input.name}`, () =>
    db.query(`INSERT INTO pools (name, trust, pool_group, open, deploy) VALUES ($1, $2, $3, $4, $5)`, [
      input.name,
      input.trust,
      input.group ?? null,
      input.open ?? false,
      input.deploy ?? false,
    ]),
  );
  return getPool(db, input.name);
}

/**
 * Marks the pool as a deploy pool or not (idempotent). Takes effect at once: the artifact service
 * reads the pool of a job's node on every call, the dispatcher on its next round.
 */
export async function setPoolDeploy(db: Db, name: string, deploy: boolean): Promise<Pool> {
  const pool = await getPool(db, name);
  if (deploy && pool.trust !== "high") throw lowTrustDeploy(name);
  // The trust is checked again in the statement (and by the table's CHECK).
  await db.query("UPDATE pools SET deploy = $2 WHERE id = $1 AND (NOT $2 OR trust = 'high')", [
    pool.id,
    deploy,
  ]);
  return getPool(db, name);
}

/** Moves the pool into a group (null: out of any); authorizations for the group then cover it. */
export async function setPoolGroup(db: Db, name: string, group: string | null): Promise<Pool> {
  const { rowCount } = await db.query("UPDATE pools SET pool_group = $2 WHERE name = $1", [name, group]);
  if (!rowCount) throw notFound("pool", name);
  return getPool(db, name);
}

/** Removes an empty pool (its authorizations go with it). `default` is never removed. */
export async function deletePool(db: Db, name: string): Promise<Pool> {
  const pool = await getPool(db, name);
  if (pool.name === DEFAULT_POOL_NAME)
    throw new AirlockError(ErrorCode.CONFLICT, "pool default cannot be removed");
  const { rows } = await db.query<{ deleted: boolean }>(
    `WITH deleted AS (
       DELETE FROM pools p WHERE p.id = $1
          AND NOT EXISTS (SELECT 1 FROM nodes WHERE pool_id = p.id)
          AND NOT EXISTS (SELECT 1 FROM node_registrations WHERE pool_id = p.id AND used_at IS NULL
                            AND revoked_at IS NULL AND expires_at > now())
       RETURNING id)
     SELECT EXISTS (SELECT 1 FROM deleted) AS deleted`,
    [pool.id],
  );
  if (!rows[0]?.deleted)
    throw new AirlockError(
      ErrorCode.CONFLICT,
      `pool ${name} still has nodes or pending registrations; move them to another pool first`,
    );
  return pool;
}

/** The pool's id by name; NOT_FOUND names it. */
export async function poolId(db: Db, name: string): Promise<number> {
  const { rows } = await db.query<{ id: string }>("SELECT id FROM pools WHERE name = $1", [name]);
  if (!rows[0]) throw notFound("pool", name);
  return num(rows[0].id);
}
