// Nodes as the API shows them: creation (by a registration's exchange, ../node-auth), listing
// with the number of machines each runs, enable/disable (drain) and removal. Capacity, images and
// `connected` are written by the agent hub when an agent says hello; this file only reads them.
import { AirlockError, ErrorCode } from "../../errors/index.js";
import { iso, isoOrNull, num, notFound, uniquely, type Db } from "./db.js";

export interface Node {
  id: number;
  name: string;
  labels: string[];
  requiredLabels: string[];
  cpus: number;
  memoryMb: number;
  diskMb: number;
  provisioners: string[];
  /** Per provisioner, the agent's one line on how it isolates on this node (e.g. KVM or emulation). */
  provisionerInfo: Record<string, string>;
  images: string[];
  enabled: boolean;
  connected: boolean;
  lastSeenAt: string | null;
  /** Jobs assigned to or running on the node (= its machines). */
  running: number;
  createdAt: string;
  /** Revoked: its credential is dead and it can never connect again (../node-auth). */
  revokedAt: string | null;
  /** When its agent's connection was last accepted. */
  lastConnectedAt: string | null;
  /** When its current credential became current (registration, or the last rotation). */
  credentialRotatedAt: string | null;
  /** The pool an administrator placed it in (docs/security.md). */
  pool: string;
  /** When it was first given a low-trust job: it runs no trusted job until it is re-registered. */
  taintedAt: string | null;
  /** Run by this installation's operator (`trusted`) or contributed by a third party (`untrusted`). */
  workerTrust: WorkerTrust;
  /** Who operates it (null: this installation's operator). */
  operator: string | null;
  /**
   * Flagged for the operator when builds it took part in disagreed (corroboration): when and why.
   * A note for a person, not a score: it changes nothing about what the node is given.
   */
  flaggedAt: string | null;
  flagReason: string | null;
}

export const WORKER_TRUSTS = ["trusted", "untrusted"] as const;
export type WorkerTrust = (typeof WORKER_TRUSTS)[number];

/** A node in the nodes list: what the database holds, and what only the agent hub knows. */
export interface ListedNode extends Node {
  /** Its agent is stopping gracefully: it finishes its running jobs and is given no new ones. */
  draining: boolean;
}

export interface NewNode {
  name: string;
  labels?: string[];
  requiredLabels?: string[];
  /** Default: the pool `default` (id 1). */
  poolId?: number;
  /** Default: trusted. */
  workerTrust?: WorkerTrust;
  operator?: string | null;
}

const SELECT = `SELECT n.*, (SELECT p.name FROM pools p WHERE p.id = n.pool_id) AS pool,
  (SELECT count(*) FROM jobs j WHERE j.node_id = n.id AND j.state IN ('assigned', 'running')) AS running,
  (SELECT c.rotated_at FROM node_credentials c WHERE c.node_id = n.id) AS credential_rotated_at
  FROM nodes n`;

function fromRow(r: Record<string, unknown>): Node {
  return {
    id: num(r.id),
    name: String(r.name),
    labels: r.labels as string[],
    requiredLabels: r.required_labels as string[],
    cpus: num(r.cpus),
    memoryMb: num(r.memory_mb),
    diskMb: num(r.disk_mb),
    provisioners: r.provisioners as string[],
    provisionerInfo: (r.provisioner_info ?? {}) as Record<string, string>,
    images: r.images as string[],
    enabled: Boolean(r.enabled),
    connected: Boolean(r.connected),
    lastSeenAt: isoOrNull(r.last_seen_at),
    running: num(r.running ?? 0),
    createdAt: iso(r.created_at),
    revokedAt: isoOrNull(r.revoked_at),
    lastConnectedAt: isoOrNull(r.last_connected_at),
    credentialRotatedAt: isoOrNull(r.credential_rotated_at),
    pool: typeof r.pool === "string" ? r.pool : "default",
    taintedAt: isoOrNull(r.tainted_at),
    workerTrust: r.worker_trust === "untrusted" ? "untrusted" : "trusted",
    operator: typeof r.operator === "string" ? r.operator : null,
    flaggedAt: isoOrNull(r.flagged_at),
    flagReason: typeof r.flag_reason === "string" ? r.flag_reason : null,
  };
}

export async function listNodes(db: Db): Promise<Node[]> {
  const { rows } = await db.query(`${SELECT} ORDER BY n.id`);
  return rows.map(fromRow);
}

export async function getNode(db: Db, id: number): Promise<Node> {
  const { rows } = await db.query(`${SELECT} WHERE n.id = $1`, [id]);
  if (!rows[0]) throw notFound("node", id);
  return fromRow(rows[0]);
}

export async function createNode(db: Db, input: NewNode): Promise<Node> {
  const { rows } = await uniquely(`node ${input.name}`, () =>
    db.query<{ id: string }>(
      `INSERT INTO nodes (name, labels, required_labels, pool_id, worker_trust, operator)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
      [
        input.name,
        input.labels ?? [],
        input.requiredLabels ?? [],
        input.poolId ?? 1,
        input.workerTrust ?? "trusted",
        input.operator ?? null,
      ],
    ),
  );
  return getNode(db, num(rows[0]!.id));
}

/**
 * An administrator's word on who runs the node and whether it is trusted (never the node's own,
 * never inferred from what it did): corroboration counts distinct operators (docs/integrity.md).
 */
export async function setNodeWorker(
  db: Db,
  id: number,
  worker: { workerTrust: WorkerTrust; operator?: string | null },
): Promise<Node> {
  const { rowCount } = await db.query(
    `UPDATE nodes SET worker_trust = $2, operator = CASE WHEN $4 THEN $3 ELSE operator END WHERE id = $1`,
    [id, worker.workerTrust, worker.operator ?? null, worker.operator !== undefined],
  );
  if (!rowCount) throw notFound("node", id);
  return getNode(db, id);
}

/** Clears the flag a disagreement of builds set (an administrator looked); NOT_FOUND for no node. */
export async function clearNodeFlag(db: Db, id: number): Promise<Node> {
  const { rowCount } = await db.query(
    "UPDATE nodes SET flagged_at = NULL, flag_reason = NULL WHERE id = $1",
    [id],
  );
  if (!rowCount) throw notFound("node", id);
  return getNode(db, id);
}

/** Disabling drains the node: the scheduler places nothing new on it; running machines finish. */
export async function setNodeEnabled(db: Db, id: number, enabled: boolean): Promise<Node> {
  const { rowCount } = await db.query("UPDATE nodes SET enabled = $2 WHERE id = $1", [id, enabled]);
  if (!rowCount) throw notFound("node", id);
  return getNode(db, id);
}

/**
 * Removes a node and its credential. Refused (CONFLICT) while it has machines: disable it, let
 * them finish, then remove it.
 */
export async function deleteNode(db: Db, id: number): Promise<void> {
  const { rows } = await db.query<{ busy: boolean; deleted: boolean }>(
    `WITH busy AS (SELECT 1 FROM jobs WHERE node_id = $1 AND state IN ('assigned', 'running') LIMIT 1),
          deleted AS (DELETE FROM nodes WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM busy) RETURNING id)
     SELECT EXISTS (SELECT 1 FROM busy) AS busy, EXISTS (SELECT 1 FROM deleted) AS deleted`,
    [id],
  );
  const r = rows[0];
  if (r?.deleted) return;
  if (r?.busy)
    throw new AirlockError(ErrorCode.CONFLICT, `node ${id} still runs machines; disable it and wait`);
  throw notFound("node", id);
}
