// API tokens: one admin token (created at first start, printed once) and one token per node
// agent. Only the sha256 of a token is stored. A lookup by hash compares digests of the
// presented token, never the token itself, so its timing tells nothing about stored tokens;
// malformed tokens are refused before any query.
import { createHash, randomBytes } from "node:crypto";
import type pg from "pg";
import { createNode, inTransaction, type NewNode, type Node } from "../catalog/index.js";
import type { Db } from "../catalog/index.js";

export type TokenKind = "admin" | "agent";

const PREFIX: Record<TokenKind, string> = { admin: "alk_admin_", agent: "alk_node_" };
// 32 random bytes in base64url are 43 characters.
const SHAPE: Record<TokenKind, RegExp> = {
  admin: /^alk_admin_[A-Za-z0-9_-]{43}$/,
  agent: /^alk_node_[A-Za-z0-9_-]{43}$/,
};

export interface Principal {
  tokenId: number;
  kind: TokenKind;
  /** The node an agent token belongs to. */
  nodeId: number | null;
}

export function generateToken(kind: TokenKind): string {
  return PREFIX[kind] + randomBytes(32).toString("base64url");
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** A new token for a node's agent (shown once). Earlier tokens of the node stay valid. */
export async function createAgentToken(db: Db, nodeId: number): Promise<string> {
  const token = generateToken("agent");
  await db.query(
    `INSERT INTO api_tokens (name, kind, token_hash, node_id)
     SELECT 'node:' || name, 'agent', $2, id FROM nodes WHERE id = $1`,
    [nodeId, hashToken(token)],
  );
  return token;
}

/** Registers a node and makes its agent token, atomically. */
export async function registerNode(pool: pg.Pool, input: NewNode): Promise<{ node: Node; token: string }> {
  return inTransaction(pool, async (c) => {
    const node = await createNode(c, input);
    return { node, token: await createAgentToken(c, node.id) };
  });
}

/**
 * The principal a presented token stands for, or undefined. Marks the token used (at most once
 * a minute, so busy clients do not turn every request into a write).
 */
export async function authenticate(db: Db, token: string, kind: TokenKind): Promise<Principal | undefined> {
  if (!SHAPE[kind].test(token)) return undefined;
  const { rows } = await db.query<{ id: string; node_id: string | null }>(
    `WITH t AS (SELECT id, node_id, last_used_at FROM api_tokens WHERE token_hash = $1 AND kind = $2),
          touched AS (UPDATE api_tokens a SET last_used_at = now() FROM t
                      WHERE a.id = t.id AND (t.last_used_at IS NULL OR t.last_used_at < now() - interval '60 seconds'))
     SELECT id, node_id FROM t`,
    [hashToken(token), kind],
  );
  const row = rows[0];
  if (!row) return undefined;
  return { tokenId: Number(row.id), kind, nodeId: row.node_id === null ? null : Number(row.node_id) };
}
