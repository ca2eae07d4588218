// Role grants in PostgreSQL (role_grants, migration 009): one role per user per organization, and
// one per user per repository. Setting a grant replaces the user's role at that level; the
// effective role on a repository is the stronger of the two.
import { AirlockError, ErrorCode } from "../errors/index.js";
import { isRole, ROLES, type Role } from "./roles.js";
import type { Db } from "./users.js";

export interface GrantView {
  id: number;
  userId: number;
  userName: string;
  organizationId: number;
  organization: string;
  repositoryId: number | null;
  repository: string | null;
  role: Role;
  createdAt: string;
}

export function checkRole(role: string): Role {
  if (!isRole(role))
    throw new AirlockError(
      ErrorCode.USAGE,
      `unknown role ${JSON.stringify(role.slice(0, 40))} (roles: ${ROLES.join(", ")})`,
    );
  return role;
}

interface Row {
  id: string;
  user_id: string;
  user_name: string;
  organization_id: string;
  organization: string;
  repository_id: string | null;
  repository: string | null;
  role: Role;
  created_at: Date;
}

const SELECT = `SELECT g.id, g.user_id, u.name AS user_name, g.organization_id, o.name AS organization,
       g.repository_id, p.name AS repository, g.role, g.created_at
  FROM role_grants g JOIN users u ON u.id = g.user_id JOIN organizations o ON o.id = g.organization_id
  LEFT JOIN repositories p ON p.id = g.repository_id`;

function view(r: Row): GrantView {
  return {
    id: Number(r.id),
    userId: Number(r.user_id),
    userName: r.user_name,
    organizationId: Number(r.organization_id),
    organization: r.organization,
    repositoryId: r.repository_id === null ? null : Number(r.repository_id),
    repository: r.repository,
    role: r.role,
    createdAt: r.created_at.toISOString(),
  };
}

/** Grants in an organization (its own and its repositories'), on one repository, or of one user. */
export async function listGrants(
  db: Db,
  where: { organizationId?: number; repositoryId?: number; userId?: number },
): Promise<GrantView[]> {
  const { rows } = await db.query<Row>(
    `${SELECT}
      WHERE ($1::bigint IS NULL OR g.organization_id = $1)
        AND ($2::bigint IS NULL OR g.repository_id = $2)
        AND ($3::bigint IS NULL OR g.user_id = $3)
      ORDER BY g.organization_id, g.repository_id NULLS FIRST, u.name`,
    [where.organizationId ?? null, where.repositoryId ?? null, where.userId ?? null],
  );
  return rows.map(view);
}

/**
 * Gives a user a role in an organization (repositoryId undefined) or on one of its repositories,
 * replacing the role they had at that level. Returns the grant and the role it replaced. A grant
 * set here is an administrator's (mapped_by cleared): a groups mapping never changes it again.
 */
export async function setGrant(
  db: Db,
  g: { userId: number; organizationId: number; repositoryId?: number; role: Role },
): Promise<{ grant: GrantView; previous: Role | null }> {
  const repo = g.repositoryId ?? null;
  const prev = await db.query<{ role: Role }>(
    `SELECT role FROM role_grants WHERE user_id = $1 AND organization_id = $2
        AND repository_id IS NOT DISTINCT FROM $3::bigint FOR UPDATE`,
    [g.userId, g.organizationId, repo],
  );
  const { rows } = await db.query<{ id: string }>(
    repo === null
      ? `INSERT INTO role_grants (user_id, organization_id, role) VALUES ($1, $2, $3)
         ON CONFLICT (user_id, organization_id) WHERE repository_id IS NULL
         DO UPDATE SET role = excluded.role, mapped_by = NULL RETURNING id`
      : `INSERT INTO role_grants (user_id, organization_id, repository_id, role) VALUES ($1, $2, $4, $3)
         ON CONFLICT (user_id, repository_id) WHERE repository_id IS NOT NULL
         DO UPDATE SET role = excluded.role, mapped_by = NULL RETURNING id`,
    repo === null ? [g.userId, g.organizationId, g.role] : [g.userId, g.organizationId, g.role, repo],
  );
  const id = Number(rows[0]!.id);
  const full = await db.query<Row>(`${SELECT} WHERE g.id = $1`, [id]);
  return { grant: view(full.rows[0]!), previous: prev.rows[0]?.role ?? null };
}

/** Takes a user's role at one level away; NOT_FOUND when they had none there. */
export async function removeGrant(
  db: Db,
  g: { userId: number; organizationId: number; repositoryId?: number },
): Promise<GrantView> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM role_grants WHERE user_id = $1 AND organization_id = $2
        AND repository_id IS NOT DISTINCT FROM $3::bigint`,
    [g.userId, g.organizationId, g.repositoryId ?? null],
  );
  if (!rows[0]) throw new AirlockError(ErrorCode.NOT_FOUND, "that user has no role there");
  const full = await db.query<Row>(`${SELECT} WHERE g.id = $1`, [rows[0].id]);
  await db.query("DELETE FROM role_grants WHERE id = $1", [rows[0].id]);
  return view(full.rows[0]!);
}
