// What an audit entry is and how it is hashed. The hash covers every stored field and the
// previous entry's hash through one canonical, unambiguous encoding: a JSON array in a fixed
// order, with `details` as canonical JSON (keys sorted, no whitespace). Strings are made
// well-formed before hashing and storing (NUL and lone surrogates become U+FFFD), so what is
// hashed is exactly what PostgreSQL stores and gives back.
import { createHash } from "node:crypto";

/** What the first entry chains to. */
export const GENESIS_HASH = "0".repeat(64);

/** Version tag inside every hashed encoding: a future encoding changes it rather than the meaning. */
const ENCODING = "airlock-audit-v1";

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Who did it: a user, an API token, a node's agent, the system itself. */
export interface AuditActor {
  kind: string;
  id?: string | number | null;
  /** A readable name as it was at the time (a user's login, a token's name). */
  display?: string | null;
}

/** On what: a repository, a node, an organization... */
export interface AuditObject {
  kind: string;
  id?: string | number | null;
}

/** What a caller records. */
export interface AuditInput {
  actor: AuditActor;
  /** Dotted, e.g. `repository.created`, `user.login_failed`. */
  action: string;
  object?: AuditObject | null;
  /** The client's address (the HTTP request's), when there is one. */
  clientAddress?: string | null;
  details?: Record<string, unknown>;
}

/** A stored entry, as listed and verified. `at` is UTC ISO with microseconds (…T12:00:00.123456Z). */
export interface AuditEntry {
  seq: number;
  at: string;
  actor: { kind: string; id: string | null; display: string | null };
  action: string;
  object: { kind: string; id: string | null } | null;
  clientAddress: string | null;
  details: { [key: string]: JsonValue };
  prevHash: string;
  hash: string;
}

export const ACTION_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;
export const KIND_PATTERN = /^[a-z][a-z0-9_]{0,31}$/;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** A string PostgreSQL stores and returns unchanged: no NUL, no lone surrogate. */
export function wellFormed(s: string): string {
  return s.replace(LONE_SURROGATE, "\uFFFD").replace(/\0/g, "\uFFFD");
}

/**
 * Details as plain JSON data: what JSON.stringify would keep (undefined and functions dropped,
 * dates as strings), strings well-formed. Non-finite numbers are refused rather than turned into
 * null silently.
 */
export function normalizeDetails(details: Record<string, unknown> | undefined): { [key: string]: JsonValue } {
  if (details === undefined) return {};
  const plain = JSON.parse(JSON.stringify(details, (_k, v: unknown) => guard(v))) as unknown;
  const fixed = fixStrings(plain);
  if (fixed === null || typeof fixed !== "object" || Array.isArray(fixed))
    throw new TypeError("audit details must be an object");
  return fixed;
}

function guard(v: unknown): unknown {
  if (typeof v === "number" && !Number.isFinite(v))
    throw new TypeError("audit details hold a non-finite number");
  if (typeof v === "bigint") return v.toString();
  return v;
}

function fixStrings(v: unknown): JsonValue {
  if (typeof v === "string") return wellFormed(v);
  if (Array.isArray(v)) return v.map(fixStrings);
  if (v !== null && typeof v === "object") {
    const out: { [key: string]: JsonValue } = {};
    for (const [k, x] of Object.entries(v)) out[wellFormed(k)] = fixStrings(x);
    return out;
  }
  return v as JsonValue;
}

/** Canonical JSON: object keys sorted (by UTF-16 code units), no whitespace. */
export function canonicalJson(v: JsonValue): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  const keys = Object.keys(v).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k] as JsonValue)}`).join(",")}}`;
}

/** The bytes an entry's hash is computed over (everything but the hash itself). */
export function encodeEntry(e: Omit<AuditEntry, "hash">): string {
  return JSON.stringify([
    ENCODING,
    String(e.seq),
    e.at,
    e.actor.kind,
    e.actor.id,
    e.actor.display,
    e.action,
    e.object?.kind ?? null,
    e.object?.id ?? null,
    e.clientAddress,
    canonicalJson(e.details),
    e.prevHash,
  ]);
}

export function hashEntry(e: Omit<AuditEntry, "hash">): string {
  return createHash("sha256").update(encodeEntry(e), "utf8").digest("hex");
}
