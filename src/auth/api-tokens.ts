// Personal and service API tokens in PostgreSQL (the api_tokens table, migration 009). A token is
// shown once; the row keeps its public id (the lookup key) and the SHA-256 of its secret part,
// compared in constant time. A token works until it expires, is revoked, or its user is disabled
// or logs out everywhere (credentials_valid_after); its last use is recorded at most once a minute.
import { AirlockError, ErrorCode } from "../errors/index.js";
import { parseScopes, type Scope } from "./scopes.js";
import { newApiToken, parseApiToken, verifyTokenSecret, type TokenKind } from "./tokens.js";
import type { Db } from "./users.js";

/** Longest lifetime a token may be given (a year), and the default (90 days). */
export const MAX_TOKEN_DAYS = 366;
export const DEFAULT_TOKEN_DAYS = 90;

export interface ApiTokenInfo {
  id: number;
  name: string;
  kind: TokenKind;
  publicId: string;
  userId: number | null;
  organizationId: number | null;
  scopes: Scope[];
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface TokenPrincipal {
  tokenId: number;
  kind: TokenKind;
  userId: number | null;
  organizationId: number | null;
  scopes: Scope[];
}

interface Row {
  id: string;
  name: string;
  kind: TokenKind;
  public_id: string;
  user_id: string | null;
  organization_id: string | null;
  scopes: string[];
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);
const numOrNull = (v: string | null): number | null => (v === null ? null : Number(v));

function info(r: Row): ApiTokenInfo {
  return {
    id: Number(r.id),
    name: r.name,
    kind: r.kind,
    publicId: r.public_id,
    userId: numOrNull(r.user_id),
    organizationId: numOrNull(r.organization_id),
    scopes: r.scopes as Scope[],
    createdAt: r.created_at.toISOString(),
    expiresAt: iso(r.expires_at),
    lastUsedAt: iso(r.last_used_at),
    revokedAt: iso(r.revoked_at),
  };
}

export interface NewTokenInput {
  kind: TokenKind;
  name: string;
  /** A list, or one string separated by commas and/or spaces. */
  scopes: string | readonly string[];
  /** personal: the owner. */
  userId?: number;
  /** service: the organization it acts in. */
  organizationId?: number;
  /** Days until it expires (1..MAX_TOKEN_DAYS; default DEFAULT_TOKEN_DAYS). */
  days?: number;
  createdBy?: number;
}

/** Makes a token; returns it (shown once) with its description. */
export async function createApiToken(
  db: Db,
  t: NewTokenInput,
): Promise<{ token: string; info: ApiTokenInfo }> {
  const scopes = parseScopes(t.scopes);
  const name = t.name.trim();
  if (name === "" || name.length > 100)
    throw new AirlockError(ErrorCode.USAGE, "a token name is 1 to 100 characters");
  const days = t.days ?? DEFAULT_TOKEN_DAYS;
  if (!Number.isInteger(days) || days < 1 || days > MAX_TOKEN_DAYS)
    throw new AirlockError(ErrorCode.USAGE, `a token lives 1 to ${MAX_TOKEN_DAYS} days`);
  if (t.kind === "personal" && t.userId === undefined)
    throw new AirlockError(ErrorCode.USAGE, "a personal token belongs to a user");
  if (t.kind === "service" && t.organizationId === undefined)
    throw new AirlockError(ErrorCode.USAGE, "a service token belongs to an organization");
  const n = newApiToken(t.kind);
  const { rows } = await db.query<Row>(
    `INSERT INTO api_tokens (name, kind, public_id, secret_hash, user_id, organization_id, scopes, expires_at, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(days => $8), $9)
     RETURNING id, name, kind, public_id, user_id, organization_id, scopes, created_at, expires_at, last_used_at, revoked_at`,
    [
      name,
      t.kind,
      n.publicId,
      n.secretHash,
      t.kind === "personal" ? t.userId : null,
      t.kind === "service" ? t.organizationId : null,
      scopes,
      days,
      t.createdBy ?? null,
    ],
  );
  return { token: n.token, info: info(rows[0] as Row) };
}

/**
 * The principal a presented token stands for, or undefined: malformed, unknown, wrong secret,
 * expired, revoked, or its user disabled or logged out everywhere since it was made.
 */
export async function authenticateApiToken(db: Db, presented: string): Promise<TokenPrincipal | undefined> {
  const p = parseApiToken(presented);
  if (!p) return undefined;
  const { rows } = await db.query<Row & { secret_hash: string; live: boolean }>(
    `SELECT t.id, t.name, t.kind, t.public_id, t.user_id, t.organization_id, t.scopes, t.created_at,
            t.expires_at, t.last_used_at, t.revoked_at, t.secret_hash,
            (t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
             AND (u.id IS NULL OR (NOT u.disabled AND t.created_at >= u.credentials_valid_after))) AS live
       FROM api_tokens t LEFT JOIN users u ON u.id = t.user_id
      WHERE t.public_id = $1 AND t.kind = $2`,
    [p.publicId, p.kind],
  );
  const r = rows[0];
  // The secret is compared even for a dead token: the answer's timing does not tell which it was.
  if (!r || !verifyTokenSecret(r.secret_hash, p.secret) || !r.live) return undefined;
  await db.query(
    `UPDATE api_tokens SET last_used_at = now()
      WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '60 seconds')`,
    [r.id],
  );
  return {
    tokenId: Number(r.id),
    kind: r.kind,
    userId: numOrNull(r.user_id),
    organizationId: numOrNull(r.organization_id),
    scopes: r.scopes as Scope[],
  };
}

export async function listApiTokens(
  db: Db,
  owner: { userId?: number; organizationId?: number },
): Promise<ApiTokenInfo[]> {
  const { rows } = await db.query<Row>(
    `SELECT id, name, kind, public_id, user_id, organization_id, scopes, created_at, expires_at, last_used_at, revoked_at
       FROM api_tokens
      WHERE kind IN ('personal', 'service') AND ($1::bigint IS NULL OR user_id = $1)
        AND ($2::bigint IS NULL OR organization_id = $2)
      ORDER BY id`,
    [owner.userId ?? null, owner.organizationId ?? null],
  );
  return rows.map(info);
}

/** Revokes a token at once (idempotent); NOT_FOUND when there is no such personal/service token. */
export async function revokeApiToken(db: Db, id: number): Promise<void> {
  const { rowCount } = await db.query(
    `UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1 AND kind IN ('personal', 'service')`,
    [id],
  );
  if (!rowCount) throw new AirlockError(ErrorCode.NOT_FOUND, `no token ${id}`);
}
