// Where a secret or variable lives: an organization, one of its repositories, or an environment
// of that repository. The SQL condition that selects exactly one level, and a description for
// audit entries and error lines.
import pg from "pg";
import { checkEnvironment, type Level } from "./names.js";

export type { Level };

export interface Scope {
  organizationId: number;
  repositoryId: number | null;
  /** Canonical (lower-case); only with a repository. */
  environment: string | null;
}

/** A pool, or a client inside a transaction. */
export type Db = pg.Pool | pg.PoolClient;

export function organizationScope(organizationId: number): Scope {
  return { organizationId, repositoryId: null, environment: null };
}

export function repositoryScope(organizationId: number, repositoryId: number): Scope {
  return { organizationId, repositoryId, environment: null };
}

/** Checks and canonicalizes the environment name (SECRET_INVALID when it is not one). */
export function environmentScope(organizationId: number, repositoryId: number, environment: string): Scope {
  return { organizationId, repositoryId, environment: checkEnvironment(environment) };
}

export function levelOf(s: Scope): Level {
  return s.environment !== null ? "environment" : s.repositoryId !== null ? "repository" : "organization";
}

/** "organization 3", "repository 7", "environment production of repository 7". */
export function describeScope(s: Scope): string {
  if (s.environment !== null) return `environment ${s.environment} of repository ${s.repositoryId}`;
  return s.repositoryId !== null ? `repository ${s.repositoryId}` : `organization ${s.organizationId}`;
}

/** `organization_id = $n AND repository_id … AND environment …` for exactly this level. */
export function atScope(s: Scope, first: number): { sql: string; params: unknown[] } {
  return {
    sql: `organization_id = $${first} AND repository_id IS NOT DISTINCT FROM $${first + 1}::bigint AND environment IS NOT DISTINCT FROM $${first + 2}::text`,
    params: [s.organizationId, s.repositoryId, s.environment],
  };
}

/** Runs `fn` in a transaction: its own on a pool, the caller's on a client. */
export async function inTransaction<T>(db: Db, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  if (!(db instanceof pg.Pool)) return fn(db);
  const client = await db.connect();
  try {
    await client.query("BEGIN");
    const result = await fn(client);
    await client.query("COMMIT");
    return result;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
