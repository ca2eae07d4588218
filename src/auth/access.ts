// What an authenticated principal may see and do: its role grants, loaded once per request, and
// the decision for one permission on one object. A principal is a user (through a session or a
// personal token, whose scopes narrow what the user's roles allow) or a service token (bound to
// one organization, allowed exactly its scopes there, never server administration).
//
// Visibility comes before permission: an object the principal has no role on is "hidden" (the
// HTTP layer answers 404 exactly as for an object that does not exist), one it sees but may not
// change is "forbidden" (403 with the reason). An organization that requires MFA ignores the
// grants of its built-in (password) members who have no second factor: they see the reason, not
// the data.
import {
  PERMISSIONS,
  permissionRule,
  roleAllows,
  strongerRole,
  type Permission,
  type Role,
} from "./roles.js";
import { hasScope, type Scope } from "./scopes.js";
import type { Db, User } from "./users.js";

export type Principal =
  | {
      kind: "user";
      user: User;
      /** The personal token used, if any (a session has none). */
      tokenId?: number;
      /** The token's scopes; undefined for a session (every scope). */
      scopes?: readonly Scope[];
    }
  | { kind: "service"; tokenId: number; organizationId: number; scopes: readonly Scope[] };

export interface Grant {
  organizationId: number;
  organizationName: string;
  /** null: the grant covers the whole organization. */
  repositoryId: number | null;
  role: Role;
  /** The organization requires MFA and this built-in user has none: the grant is not in force. */
  mfaBlocked: boolean;
}

/** Where an object lives; a repository id when it belongs to one. */
export interface Owner {
  organizationId: number;
  organizationName?: string;
  repositoryId?: number;
}

export type Verdict =
  { ok: true } | { ok: false; hidden: true } | { ok: false; hidden: false; reason: string };

/** What a list may show: everything, or the organizations and repositories named. */
export type Visible = { all: true } | { all: false; organizationIds: number[]; repositoryIds: number[] };

const OK: Verdict = { ok: true };
const HIDDEN: Verdict = { ok: false, hidden: true };
const deny = (reason: string): Verdict => ({ ok: false, hidden: false, reason });

export class Access {
  readonly principal: Principal;
  readonly grants: readonly Grant[];

  constructor(principal: Principal, grants: readonly Grant[]) {
    this.principal = principal;
    this.grants = grants;
  }

  get serverAdmin(): boolean {
    return this.principal.kind === "user" && this.principal.user.serverAdmin;
  }

  /** The user behind the request, when a user (not a service token) makes it. */
  get user(): User | undefined {
    return this.principal.kind === "user" ? this.principal.user : undefined;
  }

  /** Whether the principal holds at least one grant in force (or is an administrator or service). */
  get hasRole(): boolean {
    return this.serverAdmin || this.principal.kind === "service" || this.grants.some((g) => !g.mfaBlocked);
  }

  private scopeAllows(s: Scope): boolean {
    const scopes = this.principal.scopes;
    return scopes === undefined || hasScope(scopes, s);
  }

  /** Whether the principal may know the object exists. */
  sees(owner: Owner): boolean {
    if (this.serverAdmin) return true;
    const p = this.principal;
    if (p.kind === "service") return p.organizationId === owner.organizationId;
    return this.grants.some(
      (g) =>
        g.organizationId === owner.organizationId &&
        (owner.repositoryId === undefined ||
          g.repositoryId === null ||
          g.repositoryId === owner.repositoryId),
    );
  }

  /** The principal's role on the object, and whether it is held back by the MFA requirement. */
  private roleOn(owner: Owner, organizationOnly: boolean): { role?: Role; mfaBlocked: boolean } {
    if (this.principal.kind === "service")
      return this.principal.organizationId === owner.organizationId
        ? { role: "admin", mfaBlocked: false }
        : { mfaBlocked: false };
    let role: Role | undefined;
    let blocked = false;
    for (const g of this.grants) {
      if (g.organizationId !== owner.organizationId) continue;
      const applies =
        g.repositoryId === null ||
        (!organizationOnly && owner.repositoryId !== undefined && g.repositoryId === owner.repositoryId);
      if (!applies) continue;
      if (g.mfaBlocked) blocked = true;
      else role = strongerRole(role, g.role);
    }
    return role === undefined ? { mfaBlocked: blocked } : { role, mfaBlocked: false };
  }

  /** The role in force on a repository (server administrators: admin), for rules that name a role. */
  repositoryRole(owner: Owner): Role | undefined {
    if (this.serverAdmin) return "admin";
    return this.roleOn(owner, false).role;
  }

  /** The decision for `permission` on `owner` (required at the organization and repository levels). */
  check(permission: Permission, owner?: Owner): Verdict {
    const rule = permissionRule(permission);
    const p = this.principal;
    // Visibility first: no other answer may tell that an unseen object exists.
    if (rule.level === "organization" || rule.level === "repository") {
      if (!owner) throw new Error(`permission ${permission} needs the object it is checked on`);
      if (!this.sees(rule.level === "organization" ? { organizationId: owner.organizationId } : owner))
        return HIDDEN;
    }
    if (rule.userOnly && p.kind === "service") return deny("a service token cannot do this; a user must");
    if (rule.scope !== undefined && !this.scopeAllows(rule.scope))
      return deny(`this token does not have the ${rule.scope} scope`);
    switch (rule.level) {
      case "self":
        return OK;
      case "server":
        return this.serverAdmin ? OK : deny("this needs a server administrator");
      case "member":
        if (this.hasRole) return OK;
        return deny(
          this.grants.length > 0
            ? mfaReason(this.grants[0]!.organizationName)
            : "you have no role yet: ask an administrator to grant you one",
        );
      default: {
        if (this.serverAdmin) return OK;
        const { role, mfaBlocked } = this.roleOn(owner!, rule.level === "organization");
        if (role === undefined && mfaBlocked)
          return deny(mfaReason(owner!.organizationName ?? this.orgName(owner!.organizationId)));
        if (roleAllows(role, permission)) return OK;
        return deny(
          role === undefined
            ? `this needs the ${rule.role ?? "admin"} role in the organization`
            : `this needs the ${rule.role ?? "admin"} role (you are ${role})`,
        );
      }
    }
  }

  /** What lists may show (grants held back by the MFA requirement excluded). */
  visible(): Visible {
    if (this.serverAdmin) return { all: true };
    const p = this.principal;
    if (p.kind === "service") return { all: false, organizationIds: [p.organizationId], repositoryIds: [] };
    const live = this.grants.filter((g) => !g.mfaBlocked);
    return {
      all: false,
      organizationIds: live.filter((g) => g.repositoryId === null).map((g) => g.organizationId),
      repositoryIds: live.flatMap((g) => (g.repositoryId === null ? [] : [g.repositoryId])),
    };
  }

  private orgName(id: number): string {
    return this.grants.find((g) => g.organizationId === id)?.organizationName ?? String(id);
  }
}

function mfaReason(org: string): string {
  return `organization ${org} requires two-factor authentication: set up TOTP first (POST /api/v1/auth/totp/begin)`;
}

/** Loads the principal's grants (none for a service token) and returns its Access. */
export async function loadAccess(db: Db, principal: Principal): Promise<Access> {
  if (principal.kind === "service") return new Access(principal, []);
  const { rows } = await db.query<{
    organization_id: string;
    organization_name: string;
    repository_id: string | null;
    role: Role;
    require_mfa: boolean;
  }>(
    `SELECT g.organization_id, o.name AS organization_name, g.repository_id, g.role, o.require_mfa
       FROM role_grants g JOIN organizations o ON o.id = g.organization_id
      WHERE g.user_id = $1
      ORDER BY g.id`,
    [principal.user.id],
  );
  const u = principal.user;
  // Built-in users prove a second factor here; external ones at their identity provider.
  const lacksMfa = u.hasPassword && !u.mfa;
  return new Access(
    principal,
    rows.map((r) => ({
      organizationId: Number(r.organization_id),
      organizationName: r.organization_name,
      repositoryId: r.repository_id === null ? null : Number(r.repository_id),
      role: r.role,
      mfaBlocked: r.require_mfa && lacksMfa,
    })),
  );
}

/**
 * Every permission the principal holds on an object (an organization's or repository's), or at
 * the instance level without one (server, member and self permissions), decided by Access.check —
 * the same decision the API's access hook makes for each route. For the web UI, which hides what
 * the caller may not use; a route may still refuse for a reason of its own (an environment's
 * reviewers, a token revoking another).
 */
export function heldPermissions(
  access: Access,
  target?: { owner: Owner; level: "organization" | "repository" },
): Permission[] {
  return (Object.keys(PERMISSIONS) as Permission[]).filter((p) => {
    const level = permissionRule(p).level;
    if (target === undefined) return level !== "organization" && level !== "repository" && access.check(p).ok;
    return level === target.level && access.check(p, target.owner).ok;
  });
}
