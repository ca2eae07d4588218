// Logins under way between the redirect to a provider and its callback (table external_logins,
// migration 010). Kept server-side so that a callback is single use: taking a pending login deletes
// its row first, so a replayed callback (same state twice) finds nothing.
//
// Why a table plus a cookie, not a cookie alone: a signed and encrypted cookie can carry state,
// nonce and PKCE verifier, but it cannot be used up; a table can. The browser still holds a random
// 256-bit value (the `browserSecret`, in a short-lived HttpOnly cookie) and the row only its
// SHA-256: the callback must come from the browser that started the login (no login CSRF with an
// attacker's code), and the PKCE verifier and the nonce are HMACs of the state under that secret,
// so nothing in the database (or a backup of it) is enough to finish someone's login.
import { createHmac, randomBytes } from "node:crypto";
import { digestsEqual, sha256 } from "./constant-time.js";
import type { Db } from "./users.js";

/** How long a login may take at the provider. */
export const PENDING_LOGIN_MS = 10 * 60 * 1000;

export interface PendingLogin {
  provider: string;
  state: string;
  /** For the browser's cookie only. */
  browserSecret: string;
  codeVerifier: string;
  nonce: string;
  returnTo: string;
}

export type TakeResult =
  | { ok: true; login: PendingLogin }
  | { ok: false; reason: "unknown_state" | "provider_mismatch" | "expired" | "browser_mismatch" };

const SECRET_SHAPE = /^[A-Za-z0-9_-]{43}$/;

function derive(browserSecret: string, purpose: string, state: string): string {
  return createHmac("sha256", Buffer.from(browserSecret, "base64url"))
    .update(`airlock-sso-${purpose}\0${state}`)
    .digest("base64url");
}

function hex(v: string): string {
  return sha256(v).toString("hex");
}

function complete(provider: string, state: string, browserSecret: string, returnTo: string): PendingLogin {
  return {
    provider,
    state,
    browserSecret,
    // 43 base64url characters: a valid PKCE verifier (RFC 7636: 43-128 unreserved characters).
    codeVerifier: derive(browserSecret, "pkce", state),
    nonce: derive(browserSecret, "nonce", state),
    returnTo,
  };
}

/**
 * Records a new login to `provider`, with a new browser secret each time (never one a cookie
 * brought: a planted cookie must not let anyone know a PKCE verifier in advance). A browser's
 * latest start therefore wins over one still open in another tab. Expired rows go too.
 */
export async function beginPendingLogin(
  db: Db,
  o: { provider: string; returnTo: string; now: number },
): Promise<PendingLogin> {
  const state = randomBytes(32).toString("base64url");
  const secret = randomBytes(32).toString("base64url");
  await db.query("DELETE FROM external_logins WHERE expires_at <= $1", [new Date(o.now)]);
  await db.query(
    `INSERT INTO external_logins (state_hash, provider, browser_hash, return_to, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [hex(state), o.provider, hex(secret), o.returnTo, new Date(o.now), new Date(o.now + PENDING_LOGIN_MS)],
  );
  return complete(o.provider, state, secret, o.returnTo);
}

/**
 * Uses up the pending login of `state`, whatever happens next: a second callback with the same
 * state is refused. Refused as well: another provider's state, an expired one, and a browser
 * without the secret that started it.
 */
export async function takePendingLogin(
  db: Db,
  o: { provider: string; state: string | undefined; browserSecret: string | undefined; now: number },
): Promise<TakeResult> {
  if (typeof o.state !== "string" || o.state.length === 0 || o.state.length > 200)
    return { ok: false, reason: "unknown_state" };
  const { rows } = await db.query<{
    provider: string;
    browser_hash: string;
    return_to: string;
    expires_at: Date;
  }>(
    `DELETE FROM external_logins WHERE state_hash = $1
     RETURNING provider, browser_hash, return_to, expires_at`,
    [hex(o.state)],
  );
  const r = rows[0];
  if (!r) return { ok: false, reason: "unknown_state" };
  if (r.provider !== o.provider) return { ok: false, reason: "provider_mismatch" };
  if (r.expires_at.getTime() <= o.now) return { ok: false, reason: "expired" };
  if (
    o.browserSecret === undefined ||
    !SECRET_SHAPE.test(o.browserSecret) ||
    !digestsEqual(Buffer.from(r.browser_hash, "hex"), sha256(o.browserSecret))
  )
    return { ok: false, reason: "browser_mismatch" };
  return { ok: true, login: complete(r.provider, o.state, o.browserSecret, r.return_to) };
}

function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/**
 * A path under the server's public URL to send the browser to after the login: only a relative
 * path of this origin ("/runs/5?x=1"); anything else (absolute URLs, "//host", backslashes,
 * control characters, overlong values) becomes "/".
 */
export function safeReturnPath(raw: unknown): string {
  if (typeof raw !== "string" || raw.length === 0 || raw.length > 1024) return "/";
  if (!raw.startsWith("/") || raw.startsWith("//") || raw.includes("\\") || hasControl(raw)) return "/";
  const base = "http://airlock.invalid";
  let url: URL;
  try {
    url = new URL(raw, base);
  } catch {
    return "/";
  }
  if (url.origin !== base) return "/";
  return url.pathname + url.search + url.hash;
}
