// `permissions:` of a workflow and of a job, in GitHub's forms: `read-all`, `write-all`, `{}` (no
// permission at all) or a map of scope → read | write | none. A job's own `permissions:` replaces
// the workflow's entirely (not merged), as on GitHub; a job that says nothing gets the workflow's,
// and a workflow that says nothing gets Airlock's default, GitHub's "restricted" default
// (contents, metadata and packages: read). Airlock acts on one scope today: `id-token: write`
// lets a job ask for an identity token (docs/security.md, "Job identity tokens"); the others are
// carried for the job tokens still to come.

/** What a job may do per scope; absent scopes are `none`. */
export type PermissionLevel = "read" | "write";
export type Permissions = Record<string, PermissionLevel>;

/** GitHub's scopes (`write-all` grants each; `id-token` has no `read`). */
export const PERMISSION_SCOPES = [
  "actions",
  "attestations",
  "checks",
  "contents",
  "deployments",
  "discussions",
  "id-token",
  "issues",
  "metadata",
  "models",
  "packages",
  "pages",
  "pull-requests",
  "repository-projects",
  "security-events",
  "statuses",
] as const;

/** GitHub's "restricted" default for a workflow without `permissions:`. */
export const DEFAULT_PERMISSIONS: Readonly<Permissions> = Object.freeze({
  contents: "read",
  metadata: "read",
  packages: "read",
});

/**
 * The model of a `permissions:` value as written, or undefined when absent. Unknown scopes and
 * levels are dropped (the workflow schema refuses them before this runs); `read` on `id-token`
 * counts as none, since GitHub has no such level.
 */
export function buildPermissions(raw: unknown): Permissions | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (raw === "read-all" || raw === "write-all") {
    const level: PermissionLevel = raw === "read-all" ? "read" : "write";
    const all: Permissions = {};
    for (const scope of PERMISSION_SCOPES) {
      if (scope === "id-token" && level === "read") continue;
      // metadata is read-only on GitHub, even with write-all.
      all[scope] = scope === "metadata" ? "read" : level;
    }
    return all;
  }
  if (typeof raw !== "object" || Array.isArray(raw)) return {};
  const out: Permissions = {};
  for (const [scope, level] of Object.entries(raw as Record<string, unknown>)) {
    if (!(PERMISSION_SCOPES as readonly string[]).includes(scope)) continue;
    if (level === "write" || (level === "read" && scope !== "id-token")) out[scope] = level;
  }
  return out;
}

/** A job's permissions: its own replace the workflow's; neither: the default. */
export function effectivePermissions(
  workflow: Permissions | undefined,
  job: Permissions | undefined,
): Permissions {
  return { ...(job ?? workflow ?? DEFAULT_PERMISSIONS) };
}

/**
 * The lower of two sets, scope by scope: what a job of a called (reusable) workflow gets when the
 * calling job allows `cap` (GitHub: a called workflow can keep or lower, never raise).
 */
export function capPermissions(p: Permissions, cap: Permissions): Permissions {
  const out: Permissions = {};
  for (const [scope, level] of Object.entries(p)) {
    const max = cap[scope];
    if (max === "write") out[scope] = level;
    else if (max === "read") out[scope] = "read";
  }
  return out;
}

/** Whether a job with these permissions may ask for an identity token. */
export function mayRequestIdToken(p: Permissions | undefined): boolean {
  return p?.["id-token"] === "write";
}
