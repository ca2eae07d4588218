// Pure helpers of the administration pages: parsing what a form holds into an API body, and
// formatting what the API answers. No DOM, no fetch: unit-tested in test/web/admin-logic.test.ts.
// Checks here are a convenience; the server decides and its one-line error is what the user sees.
import type { GrantView } from "../../../../src/auth/grants.js";
import type { Scope } from "../../../../src/auth/scopes.js";

/** Labels, reviewers, allow-list entries…: split on commas and line breaks, trimmed, no empties, no duplicates. */
export function parseList(text: string): string[] {
  const out: string[] = [];
  for (const part of text.split(/[,\n]/)) {
    const s = part.trim();
    if (s && !out.includes(s)) out.push(s);
  }
  return out;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** An optional whole number from a text field: "" is null (unset); anything else must be an integer in range. */
export function parseOptionalInt(
  text: string,
  field: string,
  min: number,
  max: number,
): Parsed<number | null> {
  const s = text.trim();
  if (s === "") return { ok: true, value: null };
  if (!/^\d+$/.test(s)) return { ok: false, error: `${field}: expected a whole number` };
  const n = Number(s);
  if (n < min || n > max) return { ok: false, error: `${field}: expected ${min} to ${max}` };
  return { ok: true, value: n };
}

/** What the repository edit form shows. */
export interface RepoForm {
  cloneUrl: string;
  defaultBranch: string;
  pollIntervalSeconds: string;
  maxConcurrentJobs: string;
  visibility: string;
}

export interface RepoFacts {
  cloneUrl: string;
  defaultBranch: string;
  pollIntervalSeconds: number | null;
  maxConcurrentJobs: number | null;
  visibility?: string | undefined;
}

export function repoFormOf(r: RepoFacts): RepoForm {
  return {
    cloneUrl: r.cloneUrl,
    defaultBranch: r.defaultBranch,
    pollIntervalSeconds: r.pollIntervalSeconds === null ? "" : String(r.pollIntervalSeconds),
    maxConcurrentJobs: r.maxConcurrentJobs === null ? "" : String(r.maxConcurrentJobs),
    visibility: r.visibility ?? "",
  };
}

/** The PATCH body: only the fields that changed (the server refuses an empty change). */
export function repoPatch(before: RepoFacts, form: RepoForm): Parsed<Record<string, unknown>> {
  const body: Record<string, unknown> = {};
  const poll = parseOptionalInt(form.pollIntervalSeconds, "poll interval", 10, 86400);
  if (!poll.ok) return poll;
  const jobs = parseOptionalInt(form.maxConcurrentJobs, "job limit", 1, 10000);
  if (!jobs.ok) return jobs;
  if (form.cloneUrl.trim() !== before.cloneUrl) body.cloneUrl = form.cloneUrl.trim();
  if (form.defaultBranch.trim() !== before.defaultBranch) body.defaultBranch = form.defaultBranch.trim();
  if (poll.value !== before.pollIntervalSeconds) body.pollIntervalSeconds = poll.value;
  if (jobs.value !== before.maxConcurrentJobs) body.maxConcurrentJobs = jobs.value;
  if (form.visibility !== "" && form.visibility !== (before.visibility ?? ""))
    body.visibility = form.visibility;
  if (Object.keys(body).length === 0) return { ok: false, error: "nothing changed" };
  return { ok: true, value: body };
}

/** A typed confirmation matches the name exactly (no trimming inside, case-sensitive). */
export function confirmationMatches(typed: string, name: string): boolean {
  return name !== "" && typed.trim() === name;
}

/** A datetime-local field's value (local time) as ISO 8601 UTC, or undefined when empty or invalid. */
export function localToIso(value: string): string | undefined {
  if (!value) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

export interface AuditFilters {
  actor: string;
  action: string;
  object: string;
  since: string;
  until: string;
}

/** The GET /audit query of the filters (empty fields left out; times converted to UTC). */
export function auditQuery(f: AuditFilters, before?: number, limit = 50): Record<string, string | number> {
  const q: Record<string, string | number> = { limit };
  if (f.actor.trim()) q.actor = f.actor.trim();
  if (f.action.trim()) q.action = f.action.trim();
  if (f.object.trim()) q.object = f.object.trim();
  const since = localToIso(f.since);
  const until = localToIso(f.until);
  if (since) q.since = since;
  if (until) q.until = until;
  if (before !== undefined) q.before = before;
  return q;
}

/** An audit entry's details as one line of text: `key=value` pairs, values as JSON when not strings. */
export function detailsText(details: Record<string, unknown>): string {
  return Object.entries(details)
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ");
}

/** Megabytes as "512 MB" / "7.8 GB" / "1.5 TB". */
export function formatMb(mb: number): string {
  if (mb < 1024) return `${mb} MB`;
  if (mb < 1024 * 1024) return `${(mb / 1024).toFixed(1)} GB`;
  return `${(mb / 1024 / 1024).toFixed(1)} TB`;
}

export interface NodeFacts {
  enabled: boolean;
  connected: boolean;
  draining?: boolean;
  revokedAt: string | null;
}

/** One word for a node's state, the strongest fact first. */
export function nodeState(n: NodeFacts): "revoked" | "disabled" | "draining" | "online" | "offline" {
  if (n.revokedAt) return "revoked";
  if (!n.enabled) return "disabled";
  if (n.draining) return "draining";
  return n.connected ? "online" : "offline";
}

/** Organizations where the user's grants make them an organization administrator (may add repositories). */
export function adminOrganizations(
  grants: readonly Pick<GrantView, "organization" | "repositoryId" | "role">[],
): string[] {
  const out: string[] = [];
  for (const g of grants)
    if (g.repositoryId === null && g.role === "admin" && !out.includes(g.organization))
      out.push(g.organization);
  return out;
}

/** The scopes a token may be given (src/auth/scopes.ts; typed so a renamed scope fails the build). */
export const TOKEN_SCOPES = [
  "runs:read",
  "runs:write",
  "repos:read",
  "repos:admin",
  "nodes:read",
  "nodes:admin",
  "secrets:write",
  "audit:read",
  "admin",
] as const satisfies readonly Scope[];

/** A `{ state: count }` record as rows, largest first, then by name (stable for screenshots). */
export function countRows(counts: Record<string, number> | undefined | null): [string, number][] {
  if (!counts) return [];
  return Object.entries(counts)
    .filter(([, n]) => typeof n === "number")
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

/** Secret and variable names: what GitHub allows (letters, digits, underscore; not starting with a digit or GITHUB_). */
export function nameProblem(name: string): string | undefined {
  const n = name.trim();
  if (!n) return "a name is required";
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(n)) return "letters, digits and '_' only, not starting with a digit";
  if (/^GITHUB_/i.test(n)) return "names may not start with GITHUB_";
  return undefined;
}

/** The dashboard's capacity as tiles: CPUs and memory in use of what online nodes offer, running jobs. */
export function capacityTiles(capacity: unknown): { n: string; what: string }[] {
  if (typeof capacity === "number") return [{ n: String(capacity), what: "capacity" }];
  if (!capacity || typeof capacity !== "object") return [];
  const c = capacity as Record<string, unknown>;
  const num = (k: string): number | undefined => (typeof c[k] === "number" ? c[k] : undefined);
  const tiles: { n: string; what: string }[] = [];
  const known = new Set(["cpus", "usedCpus", "memoryMb", "usedMemoryMb", "runningJobs"]);
  const cpus = num("cpus");
  const mem = num("memoryMb");
  if (cpus !== undefined) tiles.push({ n: `${num("usedCpus") ?? 0} / ${cpus}`, what: "CPUs in use" });
  if (mem !== undefined)
    tiles.push({ n: `${formatMb(num("usedMemoryMb") ?? 0)} / ${formatMb(mem)}`, what: "memory in use" });
  const running = num("runningJobs");
  if (running !== undefined) tiles.push({ n: String(running), what: "jobs holding machines" });
  for (const [k, v] of Object.entries(c))
    if (!known.has(k) && typeof v === "number") tiles.push({ n: String(v), what: k });
  return tiles;
}
