// Revoking a node: it stays listed (revoked, with the time), its credentials are deleted so no
// secret it ever held works again, and it can never reconnect — registering the machine again takes
// a new registration token and makes a new node. The caller closes the node's open connection; the
// jobs it held are handled as on any disconnect (their leases expire and they are retried).
import { getNode, type Db, type Node } from "../catalog/index.js";
import { AirlockError, ErrorCode } from "../../errors/index.js";

/** Revokes a node (idempotent: the first revocation's time stays). NOT_FOUND for an unknown node. */
export async function revokeNode(db: Db, id: number): Promise<Node> {
  const { rowCount } = await db.query(
    `WITH gone AS (DELETE FROM node_credentials WHERE node_id = $1)
     UPDATE nodes SET revoked_at = COALESCE(revoked_at, now()), connected = false WHERE id = $1`,
    [id],
  );
  if (!rowCount) throw new AirlockError(ErrorCode.NOT_FOUND, `node ${id} not found`);
  return getNode(db, id);
}
