// The admin token (created at first start, printed once). Only its sha256 is stored. A lookup by
// hash compares digests of the presented token, never the token itself, so its timing tells
// nothing about stored tokens; malformed tokens are refused before any query. Node agents do not
// use tokens from here: they register with a one-time token and connect with a rotating
// credential (../node-auth).
import { createHash, randomBytes } from "node:crypto";
import type pg from "pg";
import { inTransaction } from "../catalog/index.js";
import type { Db } from "../catalog/index.js";

export type TokenKind = "admin";

const PREFIX: Record<TokenKind, string> = { admin: "alk_admin_" };
// 32 random bytes in base64url are 43 characters.
const SHAPE: Record<TokenKind, RegExp> = { admin: /^alk_admin_[A-Za-z0-9_-]{43}$/ };
// Serialises concurrent first starts so that exactly one admin token is created.
const ADMIN_LOCK_KEY = "7361626657432003";

export interface Principal {
  tokenId: number;
  kind: TokenKind;
}

export function generateToken(kind: TokenKind): string {
  return PREFIX[kind] + randomBytes(32).toString("base64url");
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** Creates the admin token if none exists; returns it (to print once), or undefined when one exists. */
export async function ensureAdminToken(pool: pg.Pool): Promise<string | undefined> {
  return inTransaction(pool, async (c) => {
    await c.query("SELECT pg_advisory_xact_lock($1)", [ADMIN_LOCK_KEY]);
    const { rowCount } = await c.query("SELECT 1 FROM api_tokens WHERE kind = 'admin' LIMIT 1");
    if (rowCount) return undefined;
    const token = generateToken("admin");
    await c.query("INSERT INTO api_tokens (name, kind, token_hash) VALUES ('admin', 'admin', $1)", [
      hashToken(token),
    ]);
    return token;
  });
}

/**
 * The principal a presented token stands for, or undefined. Marks the token used (at most once
 * a minute, so busy clients do not turn every request into a write).
 */
export async function authenticate(db: Db, token: string, kind: TokenKind): Promise<Principal | undefined> {
  if (!SHAPE[kind].test(token)) return undefined;
  const { rows } = await db.query<{ id: string }>(
    `WITH t AS (SELECT id, last_used_at FROM api_tokens WHERE token_hash = $1 AND kind = $2),
          touched AS (UPDATE api_tokens a SET last_used_at = now() FROM t
                      WHERE a.id = t.id AND (t.last_used_at IS NULL OR t.last_used_at < now() - interval '60 seconds'))
     SELECT id FROM t`,
    [hashToken(token), kind],
  );
  const row = rows[0];
  if (!row) return undefined;
  return { tokenId: Number(row.id), kind };
}
