// The shape of API tokens (no storage here): `alk_pat_<public id>_<secret><checksum>`.
//
// - The fixed prefix (`alk_pat_` personal, `alk_svc_` service) lets secret scanners (GitHub's, a
//   pre-commit hook, a log scrubber) recognise a leaked token; the kind is visible at a glance.
// - The public id (12 base62 characters, 71 bits) is what the token is looked up by; it is not
//   secret and may appear in logs and listings.
// - The secret (43 base62 characters, 256 bits from the CSPRNG) is stored only as its SHA-256.
//   A slow password hash is for secrets people choose; against 256 random bits, brute force of a
//   leaked SHA-256 is hopeless, and a fast hash keeps every API request cheap to authenticate.
// - The checksum (CRC32 of everything before it, 6 base62 characters, as GitHub's tokens do) lets
//   a scanner tell a real token from a random look-alike offline, and lets us refuse a mistyped
//   token without a database query. It is not a security control.
import { crc32 } from "node:zlib";
import { digestsEqual, sha256 } from "./constant-time.js";
import { BASE62, encodeFixed, randomString } from "./random.js";

export const TOKEN_KINDS = { personal: "pat", service: "svc" } as const;
export type TokenKind = keyof typeof TOKEN_KINDS;

const PUBLIC_ID_CHARS = 12;
const SECRET_CHARS = 43;
const CHECKSUM_CHARS = 6;
const TOKEN = /^alk_(pat|svc)_([0-9A-Za-z]{12})_([0-9A-Za-z]{43})([0-9A-Za-z]{6})$/;
const TOKEN_LENGTH = "alk_pat_".length + PUBLIC_ID_CHARS + 1 + SECRET_CHARS + CHECKSUM_CHARS;
const SECRET_HASH = /^[0-9a-f]{64}$/;

export interface NewApiToken {
  /** The whole token: shown to its owner once, never stored. */
  token: string;
  /** Stored in the clear, indexed: the lookup key. */
  publicId: string;
  /** SHA-256 of the secret, hex: stored. */
  secretHash: string;
}

export interface ParsedApiToken {
  kind: TokenKind;
  publicId: string;
  secret: string;
}

export function newApiToken(kind: TokenKind): NewApiToken {
  const publicId = randomString(BASE62, PUBLIC_ID_CHARS);
  const secret = randomString(BASE62, SECRET_CHARS);
  const body = `alk_${TOKEN_KINDS[kind]}_${publicId}_${secret}`;
  return { token: body + checksum(body), publicId, secretHash: hashTokenSecret(secret) };
}

/** The parts of a well-formed token with a correct checksum; undefined for anything else. Never throws. */
export function parseApiToken(str: unknown): ParsedApiToken | undefined {
  if (typeof str !== "string" || str.length !== TOKEN_LENGTH) return undefined;
  const m = TOKEN.exec(str);
  if (!m) return undefined;
  if (checksum(str.slice(0, -CHECKSUM_CHARS)) !== m[4]) return undefined;
  return { kind: m[1] === "pat" ? "personal" : "service", publicId: m[2]!, secret: m[3]! };
}

export function hashTokenSecret(secret: string): string {
  return sha256(secret).toString("hex");
}

/** Whether `secret` is the one `secretHash` was made from; compares digests in constant time. */
export function verifyTokenSecret(secretHash: string, secret: string): boolean {
  if (typeof secret !== "string" || secret.length !== SECRET_CHARS || !SECRET_HASH.test(secretHash))
    return false;
  return digestsEqual(sha256(secret), Buffer.from(secretHash, "hex"));
}

function checksum(body: string): string {
  return encodeFixed(crc32(body), BASE62, CHECKSUM_CHARS);
}
