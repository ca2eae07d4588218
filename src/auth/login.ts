// Logging in with a built-in user: the password (throttled per account and per client address,
// the same answer and the same work for an unknown user, a wrong password, a disabled user and a
// user without a password), then the second factor when the user has TOTP (a code, or a one-time
// recovery code), and TOTP enrolment. Every failure is one line that names nothing.
import type pg from "pg";
import { AirlockError, ErrorCode } from "../errors/index.js";
import { rateLimitedError, type LoginThrottle } from "./login-throttle.js";
import { hashPassword, verifyPassword } from "./password.js";
import { consumeRecoveryCode, newRecoveryCodes } from "./recovery.js";
import { createSession, rotateSession, type NewSession, type Session } from "./sessions.js";
import { newTotpSecret, otpauthUri, verifyTotp } from "./totp.js";
import { getUser, passwordHashOf, upgradePasswordHash, type User } from "./users.js";

export const LOGIN_FAILED = "invalid user name or password";
export const SECOND_FACTOR_FAILED = "invalid code";

export interface Client {
  address: string;
  userAgent?: string;
}

export interface LoginResult {
  user: User;
  session: NewSession;
  /** The session waits for the second factor (POST the code before anything else works). */
  mfaRequired: boolean;
}

function failed(message: string): AirlockError {
  return new AirlockError(ErrorCode.UNAUTHORIZED, message);
}

export async function passwordLogin(
  pool: pg.Pool,
  throttle: LoginThrottle,
  input: { user: string; password: string },
  client: Client,
): Promise<LoginResult> {
  const attempt = { account: String(input.user), address: client.address };
  // Counted as a failure before the (slow) verification, taken back on success: parallel
  // requests cannot all slip past the limit.
  const d = await throttle.begin(attempt);
  if (!d.allowed) throw rateLimitedError(d.retryAfterMs);
  const rec = await passwordHashOf(pool, String(input.user));
  // One argon2id verification whatever the case (no user, no password: against a dummy hash).
  const v = await verifyPassword(rec?.hash ?? undefined, String(input.password));
  const user = rec && v.ok && !rec.disabled ? await getUser(pool, rec.id) : undefined;
  if (!rec || !v.ok || rec.disabled || !user) throw failed(LOGIN_FAILED);
  if (v.needsRehash && rec.hash)
    await upgradePasswordHash(pool, rec.id, rec.hash, await hashPassword(input.password));
  await throttle.forgive(attempt);
  // Only a complete login clears the account's failures: the second factor's count goes on.
  if (!user.mfa) await throttle.recordSuccess(attempt);
  const session = await createSession(pool, user.id, {
    complete: !user.mfa,
    clientAddress: client.address,
    ...(client.userAgent !== undefined ? { userAgent: client.userAgent } : {}),
  });
  return { user, session, mfaRequired: user.mfa };
}

/**
 * The second factor of a session waiting for it: a TOTP code (not one used before) or a recovery
 * code (used up). Success: the session gets a new id, complete. Failures count against the account.
 */
export async function secondFactor(
  pool: pg.Pool,
  throttle: LoginThrottle,
  session: Session,
  input: { code?: string; recoveryCode?: string },
  client: Client,
): Promise<NewSession> {
  const user = await getUser(pool, session.userId);
  if (!user) throw failed(SECOND_FACTOR_FAILED);
  const attempt = { account: user.name, address: client.address };
  const d = await throttle.begin(attempt);
  if (!d.allowed) throw rateLimitedError(d.retryAfterMs);
  const ok = await checkSecondFactor(pool, user.id, input);
  if (!ok) throw failed(SECOND_FACTOR_FAILED);
  await throttle.forgive(attempt);
  await throttle.recordSuccess(attempt);
  const rotated = await rotateSession(pool, session, { complete: true });
  if (!rotated) throw failed(SECOND_FACTOR_FAILED);
  return rotated;
}

/** Checks and uses up a TOTP step or a recovery code, atomically (two requests cannot share one). */
async function checkSecondFactor(
  pool: pg.Pool,
  userId: number,
  input: { code?: string; recoveryCode?: string },
): Promise<boolean> {
  const c = await pool.connect();
  try {
    await c.query("BEGIN");
    const { rows } = await c.query<{
      totp_secret: string | null;
      totp_last_step: string | null;
      recovery_code_hashes: string[];
    }>("SELECT totp_secret, totp_last_step, recovery_code_hashes FROM users WHERE id = $1 FOR UPDATE", [
      userId,
    ]);
    const r = rows[0];
    let ok = false;
    if (r?.totp_secret && typeof input.code === "string") {
      const last = r.totp_last_step === null ? undefined : Number(r.totp_last_step);
      const t = await verifyTotp(r.totp_secret, input.code, last === undefined ? {} : { lastUsedStep: last });
      if (t.ok) {
        await c.query("UPDATE users SET totp_last_step = $2 WHERE id = $1", [userId, t.step]);
        ok = true;
      }
    } else if (r?.totp_secret && typeof input.recoveryCode === "string") {
      const rest = consumeRecoveryCode(r.recovery_code_hashes, input.recoveryCode);
      if (rest) {
        await c.query("UPDATE users SET recovery_code_hashes = $2 WHERE id = $1", [userId, rest]);
        ok = true;
      }
    }
    await c.query("COMMIT");
    return ok;
  } catch (e) {
    await c.query("ROLLBACK").catch(() => undefined);
    throw e;
  } finally {
    c.release();
  }
}

/**
 * TOTP enrolment, step 1: a new secret kept pending until a code from it is confirmed. Replacing
 * a TOTP the user already has takes a current code (or a recovery code) too, so a stolen session
 * alone cannot move the second factor to the thief's device.
 */
export async function beginTotp(
  pool: pg.Pool,
  userId: number,
  current: { code?: string; recoveryCode?: string } = {},
): Promise<{ secret: string; uri: string }> {
  const user = await getUser(pool, userId);
  if (!user) throw new AirlockError(ErrorCode.NOT_FOUND, `no user ${userId}`);
  if (user.mfa && !(await checkSecondFactor(pool, userId, current)))
    throw new AirlockError(
      ErrorCode.FORBIDDEN,
      "replacing your TOTP takes a current code or a recovery code",
    );
  const secret = newTotpSecret();
  await pool.query("UPDATE users SET totp_pending_secret = $2, updated_at = now() WHERE id = $1", [
    userId,
    secret,
  ]);
  return { secret, uri: otpauthUri({ issuer: "Airlock", account: user.name, secret }) };
}

/**
 * TOTP enrolment, step 2: a code from the pending secret turns MFA on and returns ten recovery
 * codes (shown once; only their hashes are kept). A wrong code changes nothing. Every session and
 * token the user had ends (credentials_valid_after): they were made with the password alone, and
 * must not keep acting where a second factor is required. The caller opens a new session.
 */
export async function confirmTotp(
  pool: pg.Pool,
  userId: number,
  code: string,
): Promise<{ recoveryCodes: string[] }> {
  const { rows } = await pool.query<{ totp_pending_secret: string | null }>(
    "SELECT totp_pending_secret FROM users WHERE id = $1",
    [userId],
  );
  const pending = rows[0]?.totp_pending_secret;
  if (!pending) throw new AirlockError(ErrorCode.USAGE, "no TOTP enrolment in progress: begin one first");
  const t = await verifyTotp(pending, code);
  if (!t.ok) throw failed(SECOND_FACTOR_FAILED);
  const rc = newRecoveryCodes();
  const done = await pool.query(
    `UPDATE users SET totp_secret = totp_pending_secret, totp_pending_secret = NULL, totp_last_step = $2,
            recovery_code_hashes = $3, updated_at = now(), credentials_valid_after = now()
      WHERE id = $1 AND totp_pending_secret = $4`,
    [userId, t.step, rc.hashes, pending],
  );
  // Another confirm (or a new begin) got there first: these codes were never stored.
  if (!done.rowCount)
    throw new AirlockError(ErrorCode.CONFLICT, "the TOTP enrolment changed meanwhile: begin again");
  return { recoveryCodes: rc.codes };
}
