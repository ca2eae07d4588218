// Password hashing and verification. New hashes are argon2id; bcrypt hashes imported from another
// system still verify and are flagged for an upgrade at the next login. Inputs are bounded before
// any hashing (a megabyte "password" must not cost a megabyte of work), and a login for a user that
// does not exist does the same argon2 work as one that does (`verifyPassword(undefined, pw)`).
import argon2 from "@node-rs/argon2";
import type { Algorithm, Version } from "@node-rs/argon2";
import bcrypt from "bcryptjs";
import { AirlockError, ErrorCode } from "../errors/index.js";

// OWASP Password Storage Cheat Sheet
// (https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html#argon2id):
// "use Argon2id with a minimum configuration of 19 MiB of memory, an iteration count of 2, and 1
// degree of parallelism" (m=19456 KiB, t=2, p=1). About 20-70 ms per hash on a server core.
export const ARGON2_MEMORY_KIB = 19456;
export const ARGON2_TIME_COST = 2;
export const ARGON2_PARALLELISM = 1;
export const ARGON2_OUTPUT_BYTES = 32;
// The numeric values of @node-rs/argon2's const enums (its native module exports no objects for them).
const ARGON2ID = 2 as Algorithm;
const VERSION_0x13 = 1 as Version;

/** The longest password accepted, in characters (Unicode code points). */
export const MAX_PASSWORD_CHARS = 1024;

// Parameters of a stored hash beyond which verification itself would be a denial of service (a
// hostile import with m=4 GiB, or bcrypt cost 31): such a hash is refused as malformed.
const MAX_STORED_MEMORY_KIB = 256 * 1024;
const MAX_STORED_TIME_COST = 16;
const MAX_STORED_PARALLELISM = 16;
const MAX_BCRYPT_COST = 15;

/**
 * A real argon2id hash, at the current parameters, of a random password nobody knows. Verifying
 * against it costs what verifying a real user's hash costs. A test checks its parameters equal
 * the ones above: when they change, regenerate it.
 */
export const DUMMY_HASH =
  "$argon2id$v=19$m=19456,t=2,p=1$q/LgdBK48HAh7GihdqVhvg$zGO1QOiL+GZtRmMAyjOfKc5bWRaQIaMG2Vh8YqzvJtk";

const BCRYPT = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;

export interface VerifyResult {
  ok: boolean;
  /** True when `ok` and the stored hash is not argon2id at the current parameters: store `hashPassword(pw)`. */
  needsRehash: boolean;
}

/**
 * The code-point count of `pw` if it is a string of at most MAX_PASSWORD_CHARS, else undefined.
 * The UTF-16 length check first refuses huge strings without walking them.
 */
function boundedLength(pw: unknown): number | undefined {
  if (typeof pw !== "string" || pw.length > 2 * MAX_PASSWORD_CHARS) return undefined;
  let n = 0;
  for (const _ of pw) n++;
  return n <= MAX_PASSWORD_CHARS ? n : undefined;
}

// NIST SP 800-63B 5.1.1.2: passwords are Unicode-normalised (NFKC) before hashing, so the same
// password typed on two systems that compose accents differently still matches.
function normalise(pw: string): string {
  return pw.normalize("NFKC");
}

/** An argon2id PHC string of `pw` (m=19456, t=2, p=1). Throws PASSWORD_INVALID on empty or over-long input. */
export async function hashPassword(pw: string): Promise<string> {
  const n = boundedLength(pw);
  if (n === undefined || n === 0)
    throw new AirlockError(
      ErrorCode.PASSWORD_INVALID,
      `a password must be 1 to ${MAX_PASSWORD_CHARS} characters long`,
    );
  return argon2.hash(normalise(pw), {
    algorithm: ARGON2ID,
    version: VERSION_0x13,
    memoryCost: ARGON2_MEMORY_KIB,
    timeCost: ARGON2_TIME_COST,
    parallelism: ARGON2_PARALLELISM,
    outputLen: ARGON2_OUTPUT_BYTES,
  });
}

/**
 * Checks `pw` against a stored hash. `stored === undefined` (no such user) does one argon2id
 * verification at the current parameters against DUMMY_HASH and fails, so the caller can call
 * this on every login attempt without revealing which user names exist. An over-long or
 * non-string `pw` fails at once, before any hashing, whether or not the user exists.
 *
 * Throws INTERNAL when `stored` is neither an argon2 nor a bcrypt hash, or asks for absurd work:
 * that is corrupt data for an operator to look at, not a wrong password.
 *
 * Timing note: an imported bcrypt hash costs what its bcrypt cost says, which differs from the
 * argon2 dummy; such users become indistinguishable once they have logged in once (rehash).
 */
export async function verifyPassword(stored: string | undefined, pw: string): Promise<VerifyResult> {
  if (boundedLength(pw) === undefined) return { ok: false, needsRehash: false };
  if (stored === undefined) {
    await argon2.verify(DUMMY_HASH, normalise(pw));
    return { ok: false, needsRehash: false };
  }
  if (stored.startsWith("$argon2")) return verifyArgon2(stored, pw);
  const bc = BCRYPT.exec(stored);
  if (bc) return verifyBcrypt(stored, Number(bc[1]), pw);
  throw malformed();
}

/** `verifyPassword(undefined, pw)`: the work of a real verification, for a user that does not exist. */
export async function dummyVerify(pw: string): Promise<VerifyResult> {
  return verifyPassword(undefined, pw);
}

async function verifyArgon2(stored: string, pw: string): Promise<VerifyResult> {
  let p: argon2.ParsedHashOptions;
  try {
    p = argon2.parseOptions(stored);
  } catch (cause) {
    throw malformed(cause);
  }
  if (
    p.memoryCost > MAX_STORED_MEMORY_KIB ||
    p.timeCost > MAX_STORED_TIME_COST ||
    p.parallelism > MAX_STORED_PARALLELISM
  )
    throw malformed();
  let ok: boolean;
  try {
    ok = await argon2.verify(stored, normalise(pw));
  } catch (cause) {
    throw malformed(cause);
  }
  const weaker =
    p.algorithm !== ARGON2ID ||
    p.version !== VERSION_0x13 ||
    p.memoryCost < ARGON2_MEMORY_KIB ||
    p.timeCost < ARGON2_TIME_COST ||
    p.outputLen < ARGON2_OUTPUT_BYTES ||
    p.saltLen < 16;
  return { ok, needsRehash: ok && weaker };
}

// bcrypt hashes come from other systems, which did not normalise: the password is used as typed.
async function verifyBcrypt(stored: string, cost: number, pw: string): Promise<VerifyResult> {
  if (cost < 4 || cost > MAX_BCRYPT_COST) throw malformed();
  const ok = await bcrypt.compare(pw, stored);
  return { ok, needsRehash: ok };
}

function malformed(cause?: unknown): AirlockError {
  // Never the hash itself in the message: it is a credential.
  return new AirlockError(ErrorCode.INTERNAL, "a stored password hash is malformed or unsupported", {
    cause,
  });
}
