// Time-based one-time passwords (RFC 6238) as authenticator apps use them: HMAC-SHA-1, 6 digits,
// 30-second steps, a base32 secret. Built on otplib. A code is accepted one step either side of
// now (phone clocks drift), and never at or before the last step that was accepted for the user,
// so a code seen over someone's shoulder cannot be used again. Time is a parameter: tests and
// callers pass `now` (ms) instead of waiting.
import { generate, generateSecret, generateURI, verify } from "otplib";
import { AirlockError, ErrorCode } from "../errors/index.js";

export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** Steps accepted either side of the current one. */
export const TOTP_DRIFT_STEPS = 1;
// 160 bits: RFC 4226 section 4 recommends a 160-bit shared secret (the HMAC-SHA-1 output size).
const SECRET_BYTES = 20;
const BASE32 = /^[A-Z2-7]+$/;

/** A new base32 secret (160 bits) to store for the user and show once, as a QR code of `otpauthUri`. */
export function newTotpSecret(): string {
  return generateSecret({ length: SECRET_BYTES });
}

/** The `otpauth://totp/...` URI authenticator apps read from a QR code. */
export function otpauthUri(opts: { issuer: string; account: string; secret: string }): string {
  return generateURI({
    strategy: "totp",
    issuer: opts.issuer,
    label: opts.account,
    secret: checkSecret(opts.secret),
    algorithm: "sha1",
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
  });
}

/** The RFC 6238 time step of an instant (ms since the epoch). */
export function totpStep(nowMs: number): number {
  return Math.floor(nowMs / 1000 / TOTP_PERIOD_SECONDS);
}

/** The code for `now` (default: the clock). `digits` 8 exists for RFC 6238's test vectors. */
export async function totpCode(secret: string, opts: { now?: number; digits?: 6 | 8 } = {}): Promise<string> {
  return generate({
    strategy: "totp",
    secret: checkSecret(secret),
    algorithm: "sha1",
    digits: opts.digits ?? TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
    epoch: Math.floor((opts.now ?? Date.now()) / 1000),
  });
}

export type TotpResult = { ok: true; step: number } | { ok: false };

/**
 * Whether `code` (6 digits; spaces ignored, as apps show "123 456") is the code of a step within
 * ±1 of `now` that is later than `lastUsedStep`. On success store `step` as the user's new
 * `lastUsedStep`, in the same transaction that accepts the login (compare-and-set, so two
 * concurrent logins with one code cannot both pass).
 */
export async function verifyTotp(
  secret: string,
  code: string,
  opts: { lastUsedStep?: number; now?: number } = {},
): Promise<TotpResult> {
  const token = typeof code === "string" && code.length <= 16 ? code.replace(/\s+/g, "") : "";
  if (!/^\d{6}$/.test(token)) return { ok: false };
  const now = opts.now ?? Date.now();
  const last = opts.lastUsedStep;
  if (last !== undefined) {
    if (!Number.isSafeInteger(last) || last < 0)
      throw new AirlockError(ErrorCode.INTERNAL, "a stored TOTP step is not a non-negative integer");
    // Every step of the window is used already (otplib refuses such an afterTimeStep outright).
    if (last >= totpStep(now) + TOTP_DRIFT_STEPS) return { ok: false };
  }
  const r = await verify({
    strategy: "totp",
    secret: checkSecret(secret),
    token,
    algorithm: "sha1",
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
    epoch: Math.floor(now / 1000),
    epochTolerance: TOTP_DRIFT_STEPS * TOTP_PERIOD_SECONDS,
    ...(last === undefined ? {} : { afterTimeStep: last }),
  });
  // otplib's functional verify is typed for TOTP and HOTP alike; only the TOTP result has a step.
  return r.valid && "timeStep" in r ? { ok: true, step: r.timeStep } : { ok: false };
}

// A stored secret that is not base32 of 16+ bytes is corrupt data, not a wrong code.
function checkSecret(secret: string): string {
  if (!BASE32.test(secret) || Math.floor((secret.length * 5) / 8) < 16)
    throw new AirlockError(ErrorCode.INTERNAL, "a stored TOTP secret is not base32 of at least 128 bits");
  return secret;
}
