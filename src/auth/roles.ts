// Roles and permissions. A role is granted per organization (it covers every repository of the
// organization) or per repository (a project); a server administrator may do everything. Every
// API route names ONE permission; the permission says at which level it is checked, the weakest
// role that has it, and the token scope a bearer token must carry for it. Pure: no database.
import type { Scope } from "./scopes.js";

/** Weakest first: each role has every permission of the roles before it. */
export const ROLES = ["viewer", "developer", "maintainer", "admin"] as const;
export type Role = (typeof ROLES)[number];

export function isRole(s: string): s is Role {
  return (ROLES as readonly string[]).includes(s);
}

export function roleRank(r: Role): number {
  return ROLES.indexOf(r);
}

/** The stronger of two roles (either may be missing). */
export function strongerRole(a: Role | undefined, b: Role | undefined): Role | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return roleRank(a) >= roleRank(b) ? a : b;
}

/**
 * Where a permission is checked:
 * - `server`: server administrators only (nodes, images, flavours, organizations, users, audit);
 * - `organization`: a role in the organization the route names (organization grants only);
 * - `repository`: a role on the repository the route names, directly or through its organization;
 * - `member`: anyone with at least one role (lists, which show only what the caller may see);
 * - `self`: anyone authenticated, about their own account (also a user without any role).
 */
export type Level = "server" | "organization" | "repository" | "member" | "self";

export interface PermissionRule {
  level: Level;
  /** The weakest role that has it (organization and repository levels). */
  role?: Role;
  /** The scope a bearer token needs (a session has every scope); none: any token will do. */
  scope?: Scope;
  /** Only a user may do it (a session or personal token), never a service token. */
  userOnly?: boolean;
}

export const PERMISSIONS = {
  // Reading what one may see.
  "catalog.read": { level: "member", scope: "repos:read" },
  "organizations.list": { level: "member", scope: "repos:read" },
  "repositories.list": { level: "member", scope: "repos:read" },
  "runs.list": { level: "member", scope: "runs:read" },
  "repository.read": { level: "repository", role: "viewer", scope: "repos:read" },
  "runs.read": { level: "repository", role: "viewer", scope: "runs:read" },
  // Working with runs.
  "runs.write": { level: "repository", role: "developer", scope: "runs:write" },
  // Letting untrusted code run is a maintainer's call, made by a person (never a service token).
  "runs.approve": { level: "repository", role: "maintainer", scope: "runs:write", userOnly: true },
  // Configuring a repository (egress allow-list).
  "repository.configure": { level: "repository", role: "maintainer", scope: "repos:admin" },
  "repository.members.read": { level: "repository", role: "maintainer", scope: "repos:read" },
  // Which pools the repository may use (granted by server administrators; docs/security.md).
  "repository.authorizations.read": { level: "repository", role: "admin", scope: "repos:read" },
  "repository.members.write": { level: "repository", role: "admin", scope: "admin", userOnly: true },
  // Secrets (write-only: reading lists names, versions and dates, never values) and variables.
  "secrets.read": { level: "repository", role: "maintainer", scope: "repos:read" },
  "secrets.write": { level: "repository", role: "maintainer", scope: "secrets:write" },
  "variables.read": { level: "repository", role: "viewer", scope: "repos:read" },
  "variables.write": { level: "repository", role: "maintainer", scope: "repos:admin" },
  "organization.secrets.read": { level: "organization", role: "maintainer", scope: "repos:read" },
  "organization.secrets.write": { level: "organization", role: "maintainer", scope: "secrets:write" },
  "organization.variables.read": { level: "organization", role: "viewer", scope: "repos:read" },
  "organization.variables.write": { level: "organization", role: "maintainer", scope: "repos:admin" },
  // Environments (protection rules: only a user may change them, never a service token) and the
  // review of deployments (the route lets any user who sees the repository ask; the environment's
  // rules decide, and never the user who triggered the run).
  "environments.read": { level: "repository", role: "viewer", scope: "repos:read" },
  "environments.write": { level: "repository", role: "admin", scope: "repos:admin", userOnly: true },
  "deployments.review": { level: "repository", role: "viewer", scope: "runs:write", userOnly: true },
  // Organization administration.
  "organization.read": { level: "organization", role: "viewer", scope: "repos:read" },
  "repository.create": { level: "organization", role: "admin", scope: "repos:admin" },
  "repository.delete": { level: "repository", role: "admin", scope: "repos:admin" },
  // What `repos add` set (clone URL, default branch, polling, job limit): where the code that gets
  // the repository's secrets comes from, so a repository administrator's.
  "repository.edit": { level: "repository", role: "admin", scope: "repos:admin" },
  "organization.configure": { level: "organization", role: "admin", scope: "admin", userOnly: true },
  "organization.members.read": { level: "organization", role: "maintainer", scope: "repos:read" },
  "organization.members.write": { level: "organization", role: "admin", scope: "admin", userOnly: true },
  "organization.tokens": { level: "organization", role: "admin", scope: "admin", userOnly: true },
  // Server administration.
  "nodes.read": { level: "server", scope: "nodes:read", userOnly: true },
  "nodes.write": { level: "server", scope: "nodes:admin", userOnly: true },
  "audit.read": { level: "server", scope: "audit:read", userOnly: true },
  "server.configure": { level: "server", scope: "admin", userOnly: true },
  "users.admin": { level: "server", scope: "admin", userOnly: true },
  // One's own account.
  "self.read": { level: "self" },
  "self.write": { level: "self", scope: "admin", userOnly: true },
  // Revoking a token: any token may revoke itself; others need the admin scope (checked by the route).
  "self.revoke": { level: "self", userOnly: true },
} as const satisfies Record<string, PermissionRule>;

export type Permission = keyof typeof PERMISSIONS;

export function isPermission(s: string): s is Permission {
  return Object.hasOwn(PERMISSIONS, s);
}

export function permissionRule(p: Permission): PermissionRule {
  return PERMISSIONS[p];
}

/** Whether `role` is enough for a permission checked at the organization or repository level. */
export function roleAllows(role: Role | undefined, p: Permission): boolean {
  const rule: PermissionRule = PERMISSIONS[p];
  if (rule.level === "member" || rule.level === "self") return true;
  if (rule.level === "server" || role === undefined) return false;
  return roleRank(role) >= roleRank(rule.role ?? "admin");
}
