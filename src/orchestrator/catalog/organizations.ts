// Organizations group repositories under a shared concurrency limit. Every repository belongs to
// one; migration 002 creates "default", which repositories join unless told otherwise.
import type { ListScope } from "./owners.js";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import { destroyOrganizationKey } from "../../secrets/index.js";
import { iso, num, numOrNull, notFound, uniquely, type Db } from "./db.js";

export interface Organization {
  id: number;
  name: string;
  maxConcurrentJobs: number | null;
  /** Members who log in with a password must have a second factor to act here. */
  requireMfa: boolean;
  createdAt: string;
}

function fromRow(r: Record<string, unknown>): Organization {
  return {
    id: num(r.id),
    name: String(r.name),
    maxConcurrentJobs: numOrNull(r.max_concurrent_jobs),
    requireMfa: r.require_mfa === true,
    createdAt: iso(r.created_at),
  };
}

/** Every organization, or those in `scope` (and those holding a repository in it). */
export async function listOrganizations(db: Db, scope?: ListScope): Promise<Organization[]> {
  const where = scope
    ? {
        sql: `id = ANY($1::bigint[]) OR id IN (SELECT organization_id FROM repositories WHERE id = ANY($2::bigint[]))`,
        params: [[...scope.organizationIds], [...scope.repositoryIds]],
      }
    : { sql: "TRUE", params: [] };
  const { rows } = await db.query(`SELECT * FROM organizations WHERE ${where.sql} ORDER BY id`, where.params);
  return rows.map(fromRow);
}

export async function createOrganization(
  db: Db,
  input: { name: string; maxConcurrentJobs?: number | null },
): Promise<Organization> {
  const { rows } = await uniquely(`organization ${input.name}`, () =>
    db.query("INSERT INTO organizations (name, max_concurrent_jobs) VALUES ($1, $2) RETURNING *", [
      input.name,
      input.maxConcurrentJobs ?? null,
    ]),
  );
  return fromRow(rows[0] as Record<string, unknown>);
}

export async function setOrganizationLimit(
  db: Db,
  name: string,
  maxConcurrentJobs: number | null,
): Promise<Organization> {
  const { rows } = await db.query(
    "UPDATE organizations SET max_concurrent_jobs = $2 WHERE name = $1 RETURNING *",
    [name, maxConcurrentJobs],
  );
  if (!rows[0]) throw notFound("organization", name);
  return fromRow(rows[0]);
}

export async function getOrganization(db: Db, name: string): Promise<Organization> {
  const { rows } = await db.query("SELECT * FROM organizations WHERE name = $1", [name]);
  if (!rows[0]) throw notFound("organization", name);
  return fromRow(rows[0]);
}

export async function setOrganizationSettings(
  db: Db,
  name: string,
  settings: { requireMfa?: boolean },
): Promise<Organization> {
  const { rows } = await db.query(
    "UPDATE organizations SET require_mfa = COALESCE($2, require_mfa) WHERE name = $1 RETURNING *",
    [name, settings.requireMfa ?? null],
  );
  if (!rows[0]) throw notFound("organization", name);
  return fromRow(rows[0]);
}

/**
 * Deletes an organization with its repositories, runs, secrets, variables, grants and tokens.
 * Its data key is destroyed first (crypto-shredding: whatever was sealed under it, in backups
 * too, can no longer be opened once the KMS key that wrapped it is retired). Refused (CONFLICT)
 * for "default" and while one of its runs is active. Call inside a transaction.
 */
export async function deleteOrganization(
  db: Db,
  name: string,
): Promise<Organization & { repositories: number; keysDestroyed: number }> {
  const { rows } = await db.query("SELECT * FROM organizations WHERE name = $1 FOR UPDATE", [name]);
  if (!rows[0]) throw notFound("organization", name);
  const org = fromRow(rows[0]);
  if (org.name === "default")
    throw new AirlockError(ErrorCode.CONFLICT, "the default organization cannot be deleted");
  const active = await db.query(
    `SELECT 1 FROM runs r JOIN repositories p ON p.id = r.repository_id
      WHERE p.organization_id = $1 AND r.state <> 'completed' LIMIT 1`,
    [org.id],
  );
  if (active.rows.length > 0)
    throw new AirlockError(ErrorCode.CONFLICT, `organization ${name} has active runs; cancel them first`);
  const keysDestroyed = await destroyOrganizationKey(db, org.id);
  const repos = await db.query("DELETE FROM repositories WHERE organization_id = $1", [org.id]);
  await db.query("DELETE FROM organizations WHERE id = $1", [org.id]);
  return { ...org, repositories: repos.rowCount ?? 0, keysDestroyed };
}
