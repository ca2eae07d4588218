// One-time recovery codes, for a user who lost their authenticator. Shown once as
// `xxxx-xxxx-xxxx-xxxx`; only salted hashes are stored; each code works once.
//
// Why SHA-256 and not argon2: a slow hash protects low-entropy secrets people choose. These codes
// are 16 characters drawn uniformly from a 32-character alphabet by the CSPRNG: 80 bits. Trying
// 2^80 SHA-256 candidates is out of reach (a GPU doing 10^10 a second needs millions of years), and
// the per-code random salt means one guess tests one stored code, never every code in a leaked
// table at once. A slow hash would only make each login with a code cost more.
import { randomBytes } from "node:crypto";
import { digestsEqual, sha256 } from "./constant-time.js";
import { randomString } from "./random.js";

// Crockford's base32, lower-case: no i, l, o, u. What people type for the look-alikes is mapped
// back (o -> 0, i and l -> 1), so a code read off paper is never ambiguous.
const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";
const CODE_CHARS = 16;
const GROUP = 4;
const SALT_BYTES = 16;
// `s256$<salt>$<digest>`, base64url: the scheme is named so it can change without guessing.
const STORED = /^s256\$([A-Za-z0-9_-]{22})\$([A-Za-z0-9_-]{43})$/;
// More stored entries than this is not a user's recovery set: refuse rather than hash them all.
const MAX_STORED = 100;

export const DEFAULT_RECOVERY_CODES = 10;

export interface RecoveryCodes {
  /** To show the user once, then forget. */
  codes: string[];
  /** To store; same order as `codes`. */
  hashes: string[];
}

export function newRecoveryCodes(n: number = DEFAULT_RECOVERY_CODES): RecoveryCodes {
  if (!Number.isInteger(n) || n < 1 || n > MAX_STORED) throw new RangeError(`1..${MAX_STORED} codes`);
  const codes: string[] = [];
  const hashes: string[] = [];
  for (let i = 0; i < n; i++) {
    const raw = randomString(ALPHABET, CODE_CHARS);
    codes.push(raw.match(new RegExp(`.{${GROUP}}`, "g"))!.join("-"));
    hashes.push(hashCode(raw, randomBytes(SALT_BYTES)));
  }
  return { codes, hashes };
}

/**
 * When `code` matches one of `storedHashes`: the hashes that remain (store them in place of the
 * old list, in the same transaction that accepts the login). Otherwise undefined. Case, dashes
 * and spaces do not matter. Every stored entry is compared, in constant time.
 */
export function consumeRecoveryCode(storedHashes: readonly string[], code: string): string[] | undefined {
  const raw = normaliseCode(code);
  if (raw === undefined || storedHashes.length > MAX_STORED) return undefined;
  let match = -1;
  storedHashes.forEach((stored, i) => {
    const m = STORED.exec(stored);
    if (!m) return;
    if (digestsEqual(digestOf(m[1]!, raw), Buffer.from(m[2]!, "base64url")) && match < 0) match = i;
  });
  return match < 0 ? undefined : storedHashes.filter((_, i) => i !== match);
}

/** The 16 significant characters of a typed code, or undefined when it cannot be one. */
function normaliseCode(code: string): string | undefined {
  if (typeof code !== "string" || code.length > 64) return undefined;
  const raw = code
    .toLowerCase()
    .replace(/[\s-]+/g, "")
    .replace(/o/g, "0")
    .replace(/[il]/g, "1");
  if (raw.length !== CODE_CHARS) return undefined;
  for (const c of raw) if (!ALPHABET.includes(c)) return undefined;
  return raw;
}

function hashCode(raw: string, salt: Buffer): string {
  const s = salt.toString("base64url");
  return `s256$${s}$${digestOf(s, raw).toString("base64url")}`;
}

function digestOf(salt: string, raw: string): Buffer {
  return sha256(`${salt}$${raw}`);
}
