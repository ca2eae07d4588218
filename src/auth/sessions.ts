// Browser sessions in PostgreSQL. The cookie carries a random 256-bit session id; only its SHA-256
// is stored, so a database read does not yield live sessions. Each session has its own CSRF token
// (a synchronizer token: the page reads it from the login answer, or from GET /auth/me after a
// reload or a single sign-on, and sends it back in a header on every state-changing request;
// compared in constant time against its stored digest). The token is derived from the session id
// (HMAC-SHA256 keyed by it), so the server can give it again from the cookie alone without storing
// it: knowing it requires the id, which only the HttpOnly cookie holds.
//
// Lifetimes: idle timeout (no request for IDLE_MS) and absolute timeout (ABSOLUTE_MS after login),
// both checked in SQL at lookup. A session dies with its user's credentials_valid_after ("log out
// everywhere", password change, disabling). rotate() gives a new id (and CSRF token) for the same
// login: at privilege change (second factor passed, role change) so a planted id (session
// fixation) is worthless.
import { createHmac, randomBytes } from "node:crypto";
import { digestsEqual, sha256 } from "./constant-time.js";
import type { Db } from "./users.js";

export const SESSION_COOKIE = "airlock_session";
export const CSRF_HEADER = "x-csrf-token";
/** A session unused this long is over. */
export const IDLE_MS = 8 * 60 * 60 * 1000;
/** A session is over this long after login, used or not. */
export const ABSOLUTE_MS = 7 * 24 * 60 * 60 * 1000;
/** last_seen_at is written at most this often (not every request). */
const TOUCH_MS = 60 * 1000;

const ID_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export interface NewSession {
  /** The cookie value (shown to the browser only). */
  id: string;
  csrfToken: string;
  expiresAt: Date;
}

export interface Session {
  idHash: string;
  userId: number;
  /** False while the second factor is still due. */
  complete: boolean;
  createdAt: Date;
  /** SHA-256 (hex) of the session's CSRF token, as looked up. */
  csrfTokenHash: string;
}

function digest(v: string): string {
  return sha256(v).toString("hex");
}

/** The CSRF token of the session whose cookie value is `id`. */
export function csrfTokenFor(id: string): string {
  return createHmac("sha256", id).update("airlock csrf token v1").digest("base64url");
}

/**
 * The session's CSRF token, derived from its cookie value; a session from before derived tokens
 * (a random one, only its digest stored) is switched to the derived one, so the page that asks
 * can write again without a new login.
 */
export async function sessionCsrfToken(db: Db, session: Session, id: string): Promise<string> {
  const token = csrfTokenFor(id);
  if (!checkCsrf(session, token))
    await db.query("UPDATE sessions SET csrf_token_hash = $2 WHERE id_hash = $1", [
      session.idHash,
      digest(token),
    ]);
  return token;
}

export async function createSession(
  db: Db,
  userId: number,
  o: { complete: boolean; clientAddress?: string; userAgent?: string; now?: Date },
): Promise<NewSession> {
  const id = randomBytes(32).toString("base64url");
  const csrfToken = csrfTokenFor(id);
  // The database's clock, unless a test gives one: credentials_valid_after is the database's too,
  // so a login right after "log out everywhere" is never mistaken for an older session.
  const { rows } = await db.query<{ expires_at: Date }>(
    `INSERT INTO sessions (id_hash, user_id, csrf_token_hash, complete, client_address, user_agent,
                           created_at, last_seen_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, COALESCE($7, now()), COALESCE($7, now()),
             COALESCE($7, now()) + make_interval(secs => $8))
     RETURNING expires_at`,
    [
      digest(id),
      userId,
      digest(csrfToken),
      o.complete,
      o.clientAddress ?? null,
      (o.userAgent ?? "").slice(0, 300),
      o.now ?? null,
      ABSOLUTE_MS / 1000,
    ],
  );
  const expiresAt = (rows[0] as { expires_at: Date }).expires_at;
  return { id, csrfToken, expiresAt };
}

/**
 * The live session a cookie value stands for, or undefined: unknown, malformed, idle too long,
 * past its absolute end, issued before the user's credentials_valid_after, or the user disabled.
 */
export async function lookupSession(
  db: Db,
  cookie: string | undefined,
  now: Date = new Date(),
): Promise<Session | undefined> {
  if (cookie === undefined || !ID_SHAPE.test(cookie)) return undefined;
  const { rows } = await db.query<{
    id_hash: string;
    user_id: string;
    complete: boolean;
    created_at: Date;
    last_seen_at: Date;
    csrf_token_hash: string;
  }>(
    `SELECT s.id_hash, s.user_id, s.complete, s.created_at, s.last_seen_at, s.csrf_token_hash
       FROM sessions s JOIN users u ON u.id = s.user_id
      WHERE s.id_hash = $1 AND s.expires_at > $2 AND s.last_seen_at > $3
        AND s.created_at >= u.credentials_valid_after AND NOT u.disabled`,
    [digest(cookie), now, new Date(now.getTime() - IDLE_MS)],
  );
  const r = rows[0];
  if (!r) return undefined;
  if (now.getTime() - r.last_seen_at.getTime() > TOUCH_MS)
    await db.query("UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1", [r.id_hash, now]);
  return {
    idHash: r.id_hash,
    userId: Number(r.user_id),
    complete: r.complete,
    createdAt: r.created_at,
    csrfTokenHash: r.csrf_token_hash,
  };
}

/** True when `token` is the session's CSRF token (constant-time comparison of digests). */
export function checkCsrf(session: Session, token: string | undefined): boolean {
  if (token === undefined || !ID_SHAPE.test(token)) return false;
  return digestsEqual(Buffer.from(session.csrfTokenHash, "hex"), sha256(token));
}

/**
 * A new id and CSRF token for the same login (the old id stops working at once); `complete`
 * marks the second factor passed. The absolute end stays the login's.
 */
export async function rotateSession(
  db: Db,
  session: Session,
  o: { complete?: boolean } = {},
): Promise<NewSession | undefined> {
  const id = randomBytes(32).toString("base64url");
  const csrfToken = csrfTokenFor(id);
  const { rows } = await db.query<{ expires_at: Date }>(
    `UPDATE sessions SET id_hash = $2, csrf_token_hash = $3, complete = complete OR $4, last_seen_at = now()
      WHERE id_hash = $1 RETURNING expires_at`,
    [session.idHash, digest(id), digest(csrfToken), o.complete === true],
  );
  const r = rows[0];
  return r ? { id, csrfToken, expiresAt: r.expires_at } : undefined;
}

export async function endSession(db: Db, session: Session): Promise<void> {
  await db.query("DELETE FROM sessions WHERE id_hash = $1", [session.idHash]);
}

/** "Log out everywhere": every session and every token the user holds stops working now. */
export async function endAllSessions(db: Db, userId: number): Promise<void> {
  await db.query("UPDATE users SET credentials_valid_after = now() WHERE id = $1", [userId]);
  await db.query("DELETE FROM sessions WHERE user_id = $1", [userId]);
}
