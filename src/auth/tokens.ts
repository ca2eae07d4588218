// The shape of API tokens (no storage here): `alk_pat_<public id>_<secret><checksum>`. Node
// agents' tokens have the same shape: `alk_reg_` one-time registration tokens and `alk_node_`
// node credentials (src/orchestrator/node-auth).
//
// - The fixed prefix (`alk_pat_` personal, `alk_svc_` service, ...) lets secret scanners (GitHub's, a
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
/** A node's one-time registration token, and the credential its agent connects with. */
export const NODE_TOKEN_KINDS = { registration: "reg", node: "node" } as const;
export type NodeTokenKind = keyof typeof NODE_TOKEN_KINDS;

const PUBLIC_ID_CHARS = 12;
const SECRET_CHARS = 43;
const CHECKSUM_CHARS = 6;
const TOKEN = /^alk_([a-z]{3,4})_([0-9A-Za-z]{12})_([0-9A-Za-z]{43})([0-9A-Za-z]{6})$/;
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
  return mint(TOKEN_KINDS[kind], randomString(BASE62, PUBLIC_ID_CHARS));
}

/**
 * A node token. A node credential keeps its node's public id across rotations (pass it); a
 * registration token gets a fresh one.
 */
export function newNodeToken(kind: NodeTokenKind, publicId?: string): NewApiToken {
  return mint(NODE_TOKEN_KINDS[kind], publicId ?? randomString(BASE62, PUBLIC_ID_CHARS));
}

/** The parts of a well-formed token with a correct checksum; undefined for anything else. Never throws. */
export function parseApiToken(str: unknown): ParsedApiToken | undefined {
  const p = parseAny(str);
  if (p?.tag === TOKEN_KINDS.personal) return { kind: "personal", publicId: p.publicId, secret: p.secret };
  if (p?.tag === TOKEN_KINDS.service) return { kind: "service", publicId: p.publicId, secret: p.secret };
  return undefined;
}

/** A well-formed node token of `kind` (checksum correct); undefined for anything else. Never throws. */
export function parseNodeToken(
  str: unknown,
  kind: NodeTokenKind,
): { publicId: string; secret: string } | undefined {
  const p = parseAny(str);
  return p?.tag === NODE_TOKEN_KINDS[kind] ? { publicId: p.publicId, secret: p.secret } : undefined;
}

function mint(tag: string, publicId: string): NewApiToken {
  const secret = randomString(BASE62, SECRET_CHARS);
  const body = `alk_${tag}_${publicId}_${secret}`;
  return { token: body + checksum(body), publicId, secretHash: hashTokenSecret(secret) };
}

const MAX_LENGTH = "alk_node_".length + PUBLIC_ID_CHARS + 1 + SECRET_CHARS + CHECKSUM_CHARS;

function parseAny(str: unknown): { tag: string; publicId: string; secret: string } | undefined {
  if (typeof str !== "string" || str.length > MAX_LENGTH) return undefined;
  const m = TOKEN.exec(str);
  if (!m) return undefined;
  if (checksum(str.slice(0, -CHECKSUM_CHARS)) !== m[4]) return undefined;
  return { tag: m[1]!, publicId: m[2]!, secret: m[3]! };
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
