// Roles from an OpenID provider's groups claim. At each login through a provider with a mapping,
// the user's grants made by that provider's mapping (role_grants.mapped_by, and
// users.server_admin_mapped_by) become exactly what the current groups give: new ones added,
// changed ones updated, ones whose group is gone removed. Grants an administrator made by hand
// (mapped_by null) are never changed or removed, and a mapping never overrides one (a hand-made
// grant on the same organization or repository wins). Organizations and repositories named in the
// mapping that do not exist are skipped and reported. One transaction; an audit entry when
// anything changed.
import type pg from "pg";
import { appendAudit } from "../audit/index.js";
import { roleRank, type Role } from "./roles.js";
import type { GroupGrant } from "./sso-types.js";

export interface MappingResult {
  changed: boolean;
  serverAdmin: boolean;
  /** "org:<name>=<role>" and "repo:<org>/<name>=<role>", as now granted by this mapping. */
  grants: string[];
  /** Names in the mapping that match no organization or repository. */
  unknown: string[];
}

const rank = (r: Role): number => roleRank(r);

/** The grants `groups` give under `mapping`: the highest role per organization / repository. */
export function desiredGrants(
  groups: string[],
  mapping: Record<string, GroupGrant[]>,
): {
  serverAdmin: boolean;
  orgs: Map<string, Role>;
  repos: Map<string, { org: string; repo: string; role: Role }>;
} {
  let serverAdmin = false;
  const orgs = new Map<string, Role>();
  const repos = new Map<string, { org: string; repo: string; role: Role }>();
  for (const g of new Set(groups)) {
    for (const grant of Object.hasOwn(mapping, g) ? (mapping[g] ?? []) : []) {
      if (grant.kind === "server-admin") serverAdmin = true;
      else if (grant.kind === "organization") {
        const had = orgs.get(grant.organization);
        if (!had || rank(grant.role) > rank(had)) orgs.set(grant.organization, grant.role);
      } else {
        const key = `${grant.organization}/${grant.repository}`;
        const had = repos.get(key);
        if (!had || rank(grant.role) > rank(had.role))
          repos.set(key, { org: grant.organization, repo: grant.repository, role: grant.role });
      }
    }
  }
  return { serverAdmin, orgs, repos };
}

interface GrantRow {
  organization_id: string;
  repository_id: string | null;
  role: Role;
  label: string;
}

async function mappedGrants(c: pg.PoolClient, userId: number, mappedBy: string): Promise<GrantRow[]> {
  const { rows } = await c.query<GrantRow>(
    `SELECT g.organization_id, g.repository_id, g.role,
            CASE WHEN g.repository_id IS NULL THEN 'org:' || o.name ELSE 'repo:' || o.name || '/' || r.name END
              || '=' || g.role AS label
       FROM role_grants g JOIN organizations o ON o.id = g.organization_id
       LEFT JOIN repositories r ON r.id = g.repository_id
      WHERE g.user_id = $1 AND g.mapped_by = $2 ORDER BY label`,
    [userId, mappedBy],
  );
  return rows;
}

export async function applyGroupMapping(
  pool: pg.Pool,
  o: {
    userId: number;
    userName: string;
    mappedBy: string;
    groups: string[];
    mapping: Record<string, GroupGrant[]>;
    clientAddress?: string;
  },
): Promise<MappingResult> {
  const want = desiredGrants(o.groups, o.mapping);
  const c = await pool.connect();
  try {
    await c.query("BEGIN");
    const before = await mappedGrants(c, o.userId, o.mappedBy);
    const orgNames = [...want.orgs.keys(), ...[...want.repos.values()].map((r) => r.org)];
    const { rows: orgRows } = await c.query<{ id: string; name: string }>(
      "SELECT id, name FROM organizations WHERE name = ANY($1::text[])",
      [orgNames],
    );
    const orgId = new Map(orgRows.map((r) => [r.name, r.id]));
    const { rows: repoRows } = await c.query<{ id: string; organization_id: string; key: string }>(
      `SELECT r.id, r.organization_id, o.name || '/' || r.name AS key
         FROM repositories r JOIN organizations o ON o.id = r.organization_id
        WHERE o.name || '/' || r.name = ANY($1::text[])`,
      [[...want.repos.keys()]],
    );
    const repo = new Map(repoRows.map((r) => [r.key, r]));
    const unknown = [
      ...[...want.orgs.keys()].filter((n) => !orgId.has(n)).map((n) => `organization ${n}`),
      ...[...want.repos.keys()].filter((k) => !repo.has(k)).map((k) => `repository ${k}`),
    ];
    const keepOrgs = [...want.orgs.keys()].flatMap((n) => orgId.get(n) ?? []);
    const keepRepos = [...want.repos.keys()].flatMap((k) => repo.get(k)?.id ?? []);
    await c.query(
      `DELETE FROM role_grants WHERE user_id = $1 AND mapped_by = $2
          AND ((repository_id IS NULL AND organization_id <> ALL($3::bigint[]))
            OR (repository_id IS NOT NULL AND repository_id <> ALL($4::bigint[])))`,
      [o.userId, o.mappedBy, keepOrgs, keepRepos],
    );
    for (const [name, role] of want.orgs) {
      const id = orgId.get(name);
      if (id === undefined) continue;
      await c.query(
        `INSERT INTO role_grants (user_id, organization_id, role, mapped_by) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id, organization_id) WHERE repository_id IS NULL
         DO UPDATE SET role = excluded.role, mapped_by = excluded.mapped_by WHERE role_grants.mapped_by IS NOT NULL`,
        [o.userId, id, role, o.mappedBy],
      );
    }
    for (const [key, g] of want.repos) {
      const r = repo.get(key);
      if (!r) continue;
      await c.query(
        `INSERT INTO role_grants (user_id, organization_id, repository_id, role, mapped_by) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (user_id, repository_id) WHERE repository_id IS NOT NULL
         DO UPDATE SET role = excluded.role, mapped_by = excluded.mapped_by WHERE role_grants.mapped_by IS NOT NULL`,
        [o.userId, r.organization_id, r.id, g.role, o.mappedBy],
      );
    }
    const admin = await setMappedServerAdmin(c, o.userId, o.mappedBy, want.serverAdmin);
    const after = await mappedGrants(c, o.userId, o.mappedBy);
    const labels = (rows: GrantRow[]): string[] => rows.map((r) => r.label);
    const changed = admin.changed || labels(before).join("\n") !== labels(after).join("\n");
    if (changed)
      await appendAudit(c, {
        actor: { kind: "user", id: o.userId, display: o.userName },
        action: "user.roles_mapped",
        object: { kind: "user", id: o.userId },
        clientAddress: o.clientAddress ?? null,
        details: {
          method: o.mappedBy,
          before: labels(before),
          after: labels(after),
          serverAdmin: admin.serverAdmin,
          ...(unknown.length > 0 ? { unknown } : {}),
        },
      });
    await c.query("COMMIT");
    return { changed, serverAdmin: admin.serverAdmin, grants: labels(after), unknown };
  } catch (e) {
    await c.query("ROLLBACK").catch(() => undefined);
    throw e;
  } finally {
    c.release();
  }
}

/**
 * Server administrator by mapping: set (remembering the provider) when the groups give it and
 * the user is not one already; taken away only when this provider's mapping had set it.
 */
async function setMappedServerAdmin(
  c: pg.PoolClient,
  userId: number,
  mappedBy: string,
  want: boolean,
): Promise<{ changed: boolean; serverAdmin: boolean }> {
  const { rowCount } = want
    ? await c.query(
        "UPDATE users SET server_admin = true, server_admin_mapped_by = $2, updated_at = now() WHERE id = $1 AND NOT server_admin",
        [userId, mappedBy],
      )
    : await c.query(
        `UPDATE users SET server_admin = false, server_admin_mapped_by = NULL, updated_at = now()
          WHERE id = $1 AND server_admin AND server_admin_mapped_by = $2`,
        [userId, mappedBy],
      );
  const { rows } = await c.query<{ server_admin: boolean }>("SELECT server_admin FROM users WHERE id = $1", [
    userId,
  ]);
  return { changed: (rowCount ?? 0) > 0, serverAdmin: rows[0]?.server_admin === true };
}
