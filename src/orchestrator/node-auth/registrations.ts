// One-time node registration tokens (`alk_reg_…`): an administrator makes one for a node name (with
// labels and an expiry); the node's agent exchanges it, once, for the node's first credential, and
// the node is created then. The token is shown once; its row keeps the public id (the lookup key)
// and the SHA-256 of its secret. An exchange locks the registration row, so two agents presenting
// the same token at once make exactly one node.
import type pg from "pg";
import { newNodeToken, parseNodeToken, verifyTokenSecret } from "../../auth/index.js";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import { createNode, inTransaction, type Db, type Node, type WorkerTrust } from "../catalog/index.js";
import { DEFAULT_POOL_NAME, poolId } from "../pools/index.js";
import { insertCredential } from "./credentials.js";

/** Default and longest lifetime of a registration token, in minutes. */
export const DEFAULT_REGISTRATION_MINUTES = 60;
export const MAX_REGISTRATION_MINUTES = 7 * 24 * 60;

export const REGISTRATION_STATES = ["pending", "used", "expired", "revoked"] as const;
export type RegistrationState = (typeof REGISTRATION_STATES)[number];

export interface Registration {
  id: number;
  name: string;
  labels: string[];
  requiredLabels: string[];
  /** The pool the node is placed in when the token is exchanged. */
  pool: string;
  /** The node's worker trust and operator once the token is exchanged. */
  workerTrust: WorkerTrust;
  operator: string | null;
  state: RegistrationState;
  createdAt: string;
  expiresAt: string;
  usedAt: string | null;
  revokedAt: string | null;
  /** The node the exchange created (null until used, or after the node was deleted). */
  nodeId: number | null;
}

export interface NewRegistration {
  name: string;
  labels?: string[];
  requiredLabels?: string[];
  /** Default: `default`. */
  pool?: string;
  /** Default: trusted (this installation's own node). */
  workerTrust?: WorkerTrust;
  operator?: string | null;
  /** 1..MAX_REGISTRATION_MINUTES; default DEFAULT_REGISTRATION_MINUTES. */
  expiresInMinutes?: number;
  /** The user who made it, when a user did. */
  createdBy?: number | null;
}

const COLUMNS = `id, node_name, labels, required_labels, pool_id, worker_trust, operator,
  (SELECT p.name FROM pools p WHERE p.id = pool_id) AS pool, created_at, expires_at, used_at, revoked_at, node_id,
  CASE WHEN revoked_at IS NOT NULL THEN 'revoked' WHEN used_at IS NOT NULL THEN 'used'
       WHEN expires_at <= now() THEN 'expired' ELSE 'pending' END AS state`;

const iso = (v: unknown): string => (v as Date).toISOString();
const isoOrNull = (v: unknown): string | null => (v === null ? null : iso(v));

function fromRow(r: Record<string, unknown>): Registration {
  return {
    id: Number(r.id),
    name: String(r.node_name),
    labels: r.labels as string[],
    requiredLabels: r.required_labels as string[],
    pool: String(r.pool),
    workerTrust: r.worker_trust === "untrusted" ? "untrusted" : "trusted",
    operator: typeof r.operator === "string" ? r.operator : null,
    state: r.state as RegistrationState,
    createdAt: iso(r.created_at),
    expiresAt: iso(r.expires_at),
    usedAt: isoOrNull(r.used_at),
    revokedAt: isoOrNull(r.revoked_at),
    nodeId: r.node_id === null ? null : Number(r.node_id),
  };
}

/** Makes a registration token (returned once). CONFLICT when the name is taken or already pending. */
export async function createRegistration(
  db: Db,
  input: NewRegistration,
): Promise<{ registration: Registration; token: string }> {
  const minutes = input.expiresInMinutes ?? DEFAULT_REGISTRATION_MINUTES;
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_REGISTRATION_MINUTES)
    throw new AirlockError(
      ErrorCode.USAGE,
      `a registration token lives 1 to ${MAX_REGISTRATION_MINUTES} minutes (7 days), got ${minutes}`,
    );
  const pool = await poolId(db, input.pool ?? DEFAULT_POOL_NAME);
  const t = newNodeToken("registration");
  // One statement: the name is checked against nodes and pending registrations where it is inserted.
  const { rows } = await db.query(
    `INSERT INTO node_registrations (public_id, secret_hash, node_name, labels, required_labels, expires_at,
       created_by, pool_id, worker_trust, operator)
     SELECT $1, $2, $3, $4, $5, now() + make_interval(mins => $6), $7, $8, $9, $10
      WHERE NOT EXISTS (SELECT 1 FROM nodes WHERE name = $3)
        AND NOT EXISTS (SELECT 1 FROM node_registrations WHERE node_name = $3 AND used_at IS NULL
                          AND revoked_at IS NULL AND expires_at > now())
     RETURNING ${COLUMNS}`,
    [
      t.publicId,
      t.secretHash,
      input.name,
      input.labels ?? [],
      input.requiredLabels ?? [],
      minutes,
      input.createdBy ?? null,
      pool,
      input.workerTrust ?? "trusted",
      input.operator ?? null,
    ],
  );
  if (!rows[0])
    throw new AirlockError(
      ErrorCode.CONFLICT,
      `node ${input.name} exists already, or a registration for it is pending`,
    );
  return { registration: fromRow(rows[0]), token: t.token };
}

export async function listRegistrations(db: Db): Promise<Registration[]> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM node_registrations ORDER BY id`);
  return rows.map(fromRow);
}

/**
 * Revokes an unused registration token (idempotent). CONFLICT once it was exchanged: revoke the
 * node instead. NOT_FOUND when there is no such registration.
 */
export async function revokeRegistration(db: Db, id: number): Promise<Registration> {
  const { rows } = await db.query(
    `UPDATE node_registrations SET revoked_at = COALESCE(revoked_at, now())
      WHERE id = $1 AND used_at IS NULL RETURNING ${COLUMNS}`,
    [id],
  );
  if (rows[0]) return fromRow(rows[0]);
  const used = await db.query<{ node_id: string | null }>(
    "SELECT node_id FROM node_registrations WHERE id = $1",
    [id],
  );
  if (!used.rows[0]) throw new AirlockError(ErrorCode.NOT_FOUND, `registration ${id} not found`);
  throw new AirlockError(
    ErrorCode.CONFLICT,
    `registration ${id} was used already (node ${used.rows[0].node_id ?? "deleted"}): revoke the node instead`,
  );
}

export interface Exchanged {
  registrationId: number;
  node: Node;
  /** The node's first credential (`alk_node_…`), for its agent to save. */
  credential: string;
}

/**
 * Exchanges a registration token for a new node and its first credential, in one transaction with
 * `inside` (the caller's audit entry). Undefined for any token that does not work — malformed,
 * unknown, wrong secret, used, revoked or expired — without saying which. CONFLICT (nothing used
 * up) when a node of that name appeared since the token was made.
 */
export async function exchangeRegistration(
  pool: pg.Pool,
  token: string,
  inside: (db: pg.PoolClient, done: Exchanged) => Promise<unknown>,
): Promise<Exchanged | undefined> {
  const p = parseNodeToken(token, "registration");
  if (!p) return undefined;
  return inTransaction(pool, async (db) => {
    // FOR UPDATE: a second exchange of the same token waits here, then finds it used.
    const { rows } = await db.query<{
      id: string;
      secret_hash: string;
      node_name: string;
      labels: string[];
      required_labels: string[];
      pool_id: string;
      worker_trust: string;
      operator: string | null;
      live: boolean;
    }>(
      `SELECT id, secret_hash, node_name, labels, required_labels, pool_id, worker_trust, operator,
              (used_at IS NULL AND revoked_at IS NULL AND expires_at > now()) AS live
         FROM node_registrations WHERE public_id = $1 FOR UPDATE`,
      [p.publicId],
    );
    const r = rows[0];
    // The secret is compared even for a dead registration: the timing does not tell which it was.
    if (!r || !verifyTokenSecret(r.secret_hash, p.secret) || !r.live) return undefined;
    const node = await createNode(db, {
      name: r.node_name,
      labels: r.labels,
      requiredLabels: r.required_labels,
      poolId: Number(r.pool_id),
      workerTrust: r.worker_trust === "untrusted" ? "untrusted" : "trusted",
      operator: r.operator ?? null,
    });
    await db.query("UPDATE node_registrations SET used_at = now(), node_id = $2 WHERE id = $1", [
      r.id,
      node.id,
    ]);
    const done: Exchanged = {
      registrationId: Number(r.id),
      node,
      credential: await insertCredential(db, node.id),
    };
    await inside(db, done);
    return done;
  });
}
