// What an API token may do. A token carries a list of scopes; a route names the one it needs.
// Deny by default: a token has only the scopes it was given (and what they imply, below).
import { AirlockError, ErrorCode } from "../errors/index.js";

export const SCOPES = [
  "runs:read",
  "runs:write",
  "repos:read",
  "repos:admin",
  "nodes:read",
  "nodes:admin",
  "secrets:write",
  "audit:read",
  "admin",
] as const;
export type Scope = (typeof SCOPES)[number];

// A stronger scope includes the weaker ones of its area; `admin` includes every scope. There is
// no `secrets:read`: secret values never leave the server through the API.
const IMPLIES: Record<Scope, readonly Scope[]> = {
  "runs:read": [],
  "runs:write": ["runs:read"],
  "repos:read": [],
  "repos:admin": ["repos:read"],
  "nodes:read": [],
  "nodes:admin": ["nodes:read"],
  "secrets:write": [],
  "audit:read": [],
  admin: SCOPES,
};

export function isScope(s: string): s is Scope {
  return (SCOPES as readonly string[]).includes(s);
}

/**
 * A scope list from user input: an array, or one string separated by commas and/or spaces.
 * Duplicates are dropped and the result is in SCOPES order. Throws SCOPE_INVALID, naming every
 * unknown scope in one line, when any is unknown or the list is empty.
 */
export function parseScopes(input: string | readonly string[]): Scope[] {
  const items = (typeof input === "string" ? input.split(/[\s,]+/) : [...input])
    .map((s) => s.trim())
    .filter((s) => s !== "");
  const unknown = [...new Set(items.filter((s) => !isScope(s)))];
  if (unknown.length > 0)
    throw new AirlockError(
      ErrorCode.SCOPE_INVALID,
      `unknown scope${unknown.length > 1 ? "s" : ""} ${listed(unknown)} (known: ${SCOPES.join(", ")})`,
      { details: { unknown: unknown.slice(0, SHOWN).map(bounded) } },
    );
  if (items.length === 0)
    throw new AirlockError(ErrorCode.SCOPE_INVALID, `no scope given (known: ${SCOPES.join(", ")})`);
  return SCOPES.filter((s) => items.includes(s));
}

/** Whether a token granted `granted` may do what `required` allows. */
export function hasScope(granted: readonly Scope[], required: Scope): boolean {
  return granted.some((g) => g === required || IMPLIES[g].includes(required));
}

// User input in an error line: a few items, each bounded, quoted so control characters show.
const SHOWN = 5;
function bounded(s: string): string {
  return s.length > 40 ? s.slice(0, 40) + "…" : s;
}
function listed(unknown: string[]): string {
  const shown = unknown.slice(0, SHOWN).map((s) => JSON.stringify(bounded(s)));
  return shown.join(", ") + (unknown.length > SHOWN ? ` and ${unknown.length - SHOWN} more` : "");
}
