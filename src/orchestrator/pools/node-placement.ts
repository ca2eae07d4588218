// What an administrator decides about a node: its labels and required labels (the only source of
// node labels: an agent's claims are ignored, see agent-hub.ts hello) and its pool. Moving a
// node to another pool keeps its taint: a node that ran low-trust work never runs a trusted job
// again until it is re-registered, whatever pool it is moved to.
import { getNode, type Db, type Node } from "../catalog/index.js";
import { notFound } from "../catalog/db.js";
import { poolId } from "./pools.js";

export async function setNodeLabels(
  db: Db,
  id: number,
  labels: readonly string[],
  requiredLabels?: readonly string[],
): Promise<Node> {
  const { rowCount } = await db.query(
    `UPDATE nodes SET labels = $2, required_labels = COALESCE($3, required_labels) WHERE id = $1`,
    [id, [...new Set(labels)], requiredLabels ? [...new Set(requiredLabels)] : null],
  );
  if (!rowCount) throw notFound("node", id);
  return getNode(db, id);
}

export async function setNodePool(db: Db, id: number, pool: string): Promise<Node> {
  const pid = await poolId(db, pool);
  const { rowCount } = await db.query("UPDATE nodes SET pool_id = $2 WHERE id = $1", [id, pid]);
  if (!rowCount) throw notFound("node", id);
  return getNode(db, id);
}

/** Marks nodes that were just given low-trust jobs (idempotent: the first time stays). */
export async function taintNodes(db: Db, nodeIds: readonly number[]): Promise<void> {
  if (nodeIds.length === 0) return;
  await db.query("UPDATE nodes SET tainted_at = COALESCE(tainted_at, now()) WHERE id = ANY($1::bigint[])", [
    [...new Set(nodeIds)],
  ]);
}
