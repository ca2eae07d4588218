// Node credentials (`alk_node_<node's public id>_<secret><checksum>`): what a node's agent connects
// with. One row per node holds the SHA-256 of the current secret and, during a rotation, of the
// pending one. Every accepted connection starts a rotation: a new secret is made pending and sent
// to the agent, which saves it durably and says so; only then is it made current and the old one
// dead. Until then either secret is accepted, and presenting the pending one makes it current, so
// a crash or a lost acknowledgement at any step leaves the node a secret that works.
import { newNodeToken, parseNodeToken, verifyTokenSecret } from "../../auth/index.js";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import type { Db } from "../catalog/index.js";

/** A first credential for a node that has none (inside the exchange's transaction). */
export async function insertCredential(db: Db, nodeId: number): Promise<string> {
  const t = newNodeToken("node");
  await db.query("INSERT INTO node_credentials (node_id, public_id, current_hash) VALUES ($1, $2, $3)", [
    nodeId,
    t.publicId,
    t.secretHash,
  ]);
  return t.token;
}

/**
 * The node a presented credential belongs to, or undefined: malformed, unknown, wrong secret, or
 * the node revoked (its credentials are deleted then). Presenting the pending secret makes it the
 * current one; the old current secret stops working.
 */
export async function authenticateNode(db: Db, credential: string): Promise<{ nodeId: number } | undefined> {
  const p = parseNodeToken(credential, "node");
  if (!p) return undefined;
  const { rows } = await db.query<{ node_id: string; current_hash: string; pending_hash: string | null }>(
    `SELECT c.node_id, c.current_hash, c.pending_hash FROM node_credentials c JOIN nodes n ON n.id = c.node_id
      WHERE c.public_id = $1 AND n.revoked_at IS NULL`,
    [p.publicId],
  );
  const r = rows[0];
  if (!r) return undefined;
  // Both compared, always: the timing does not tell which one matched.
  const current = verifyTokenSecret(r.current_hash, p.secret);
  const pending = r.pending_hash !== null && verifyTokenSecret(r.pending_hash, p.secret);
  if (!current && !pending) return undefined;
  const nodeId = Number(r.node_id);
  if (pending) await promote(db, nodeId, r.pending_hash!);
  return { nodeId };
}

/**
 * Starts a rotation for a node whose agent just connected: a new secret becomes pending (replacing
 * any earlier pending one, which the agent cannot be holding: it connected with another) and the
 * connection time is recorded. Undefined when the node was revoked meanwhile.
 */
export async function beginRotation(
  db: Db,
  nodeId: number,
): Promise<{ credential: string; pendingHash: string } | undefined> {
  const { rows } = await db.query<{ public_id: string }>(
    `SELECT c.public_id FROM node_credentials c JOIN nodes n ON n.id = c.node_id
      WHERE c.node_id = $1 AND n.revoked_at IS NULL`,
    [nodeId],
  );
  const publicId = rows[0]?.public_id;
  if (publicId === undefined) return undefined;
  const t = newNodeToken("node", publicId);
  const { rowCount } = await db.query(
    `WITH c AS (UPDATE node_credentials SET pending_hash = $2 WHERE node_id = $1 AND public_id = $3 RETURNING node_id)
     UPDATE nodes n SET last_connected_at = now() FROM c WHERE n.id = c.node_id AND n.revoked_at IS NULL`,
    [nodeId, t.secretHash, publicId],
  );
  return rowCount ? { credential: t.token, pendingHash: t.secretHash } : undefined;
}

/**
 * The agent saved the pending secret it was sent: it becomes current and the old one dead.
 * Idempotent; false when that secret is no longer pending (promoted already, or replaced).
 */
export async function confirmRotation(db: Db, nodeId: number, pendingHash: string): Promise<boolean> {
  return promote(db, nodeId, pendingHash);
}

async function promote(db: Db, nodeId: number, pendingHash: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE node_credentials SET current_hash = pending_hash, pending_hash = NULL, rotated_at = now()
      WHERE node_id = $1 AND pending_hash = $2`,
    [nodeId, pendingHash],
  );
  return (rowCount ?? 0) > 0;
}

/**
 * A new credential for a node, replacing whatever it had (current and pending). Not on the API:
 * only for a process that holds the database itself and runs the node's agent (`airlock up`).
 * CONFLICT for a revoked node.
 */
export async function resetNodeCredential(db: Db, nodeId: number): Promise<string> {
  const { rows } = await db.query<{ revoked: boolean; public_id: string | null }>(
    `SELECT n.revoked_at IS NOT NULL AS revoked, c.public_id
       FROM nodes n LEFT JOIN node_credentials c ON c.node_id = n.id WHERE n.id = $1`,
    [nodeId],
  );
  const r = rows[0];
  if (!r) throw new AirlockError(ErrorCode.NOT_FOUND, `node ${nodeId} not found`);
  if (r.revoked) throw new AirlockError(ErrorCode.CONFLICT, `node ${nodeId} was revoked`);
  const t = newNodeToken("node", r.public_id ?? undefined);
  await db.query(
    `INSERT INTO node_credentials (node_id, public_id, current_hash) VALUES ($1, $2, $3)
     ON CONFLICT (node_id) DO UPDATE SET current_hash = EXCLUDED.current_hash, pending_hash = NULL, rotated_at = now()`,
    [nodeId, t.publicId, t.secretHash],
  );
  return t.token;
}
