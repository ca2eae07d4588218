// Organizations group repositories under a shared concurrency limit. Every repository belongs to
// one; migration 002 creates "default", which repositories join unless told otherwise.
import { iso, num, numOrNull, notFound, uniquely, type Db } from "./db.js";

export interface Organization {
  id: number;
  name: string;
  maxConcurrentJobs: number | null;
  createdAt: string;
}

function fromRow(r: Record<string, unknown>): Organization {
  return {
    id: num(r.id),
    name: String(r.name),
    maxConcurrentJobs: numOrNull(r.max_concurrent_jobs),
    createdAt: iso(r.created_at),
  };
}

export async function listOrganizations(db: Db): Promise<Organization[]> {
  const { rows } = await db.query("SELECT * FROM organizations ORDER BY id");
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
