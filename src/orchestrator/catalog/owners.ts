// Where an object lives, for access checks: the organization (and repository) that owns a
// repository, run or job, found by id, or an organization found by name. Undefined when there is
// no such object. `Scope` narrows lists to what a caller may see (undefined: everything).
import { num, type Db } from "./db.js";

export interface ObjectOwner {
  organizationId: number;
  organizationName: string;
  repositoryId?: number;
}

/** The organizations and repositories a list may show; undefined shows everything. */
export type ListScope = { organizationIds: readonly number[]; repositoryIds: readonly number[] } | undefined;

function owner(r: Record<string, unknown> | undefined): ObjectOwner | undefined {
  if (!r) return undefined;
  return {
    organizationId: num(r.organization_id),
    organizationName: String(r.organization_name),
    ...(r.repository_id !== undefined && r.repository_id !== null
      ? { repositoryId: num(r.repository_id) }
      : {}),
  };
}

export async function ownerOfOrganization(db: Db, name: string): Promise<ObjectOwner | undefined> {
  const { rows } = await db.query(
    "SELECT id AS organization_id, name AS organization_name FROM organizations WHERE name = $1",
    [name],
  );
  return owner(rows[0]);
}

export async function ownerOfRepository(db: Db, id: number): Promise<ObjectOwner | undefined> {
  const { rows } = await db.query(
    `SELECT p.organization_id, o.name AS organization_name, p.id AS repository_id
       FROM repositories p JOIN organizations o ON o.id = p.organization_id WHERE p.id = $1`,
    [id],
  );
  return owner(rows[0]);
}

export async function ownerOfRun(db: Db, id: number): Promise<ObjectOwner | undefined> {
  const { rows } = await db.query(
    `SELECT p.organization_id, o.name AS organization_name, p.id AS repository_id
       FROM runs r JOIN repositories p ON p.id = r.repository_id
       JOIN organizations o ON o.id = p.organization_id WHERE r.id = $1`,
    [id],
  );
  return owner(rows[0]);
}

export async function ownerOfJob(db: Db, id: number): Promise<ObjectOwner | undefined> {
  const { rows } = await db.query(
    `SELECT p.organization_id, o.name AS organization_name, p.id AS repository_id
       FROM jobs j JOIN runs r ON r.id = j.run_id JOIN repositories p ON p.id = r.repository_id
       JOIN organizations o ON o.id = p.organization_id WHERE j.id = $1`,
    [id],
  );
  return owner(rows[0]);
}

/** SQL for "in scope": `orgColumn = ANY($a) OR repoColumn = ANY($b)`, with its two parameters. */
export function scopeCondition(
  scope: ListScope,
  orgColumn: string,
  repoColumn: string,
  firstParam: number,
): { sql: string; params: unknown[] } {
  if (!scope) return { sql: "TRUE", params: [] };
  return {
    sql: `(${orgColumn} = ANY($${firstParam}::bigint[]) OR ${repoColumn} = ANY($${firstParam + 1}::bigint[]))`,
    params: [[...scope.organizationIds], [...scope.repositoryIds]],
  };
}
