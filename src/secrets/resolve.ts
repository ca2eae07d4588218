// What a run of a repository sees: its organization's, its repository's and (for a job that names
// one) its environment's secrets and variables, with GitHub's precedence — the lowest level wins
// (environment > repository > organization). Only the winning secret of each name is decrypted.
import { wipe } from "./envelope.js";
import type { Kms } from "./kms/index.js";
import { checkEnvironment } from "./names.js";
import type { OrganizationKey } from "./org-keys.js";
import type { Db } from "./scope.js";
import { SECRET_COLUMNS, openSecretRow, type SecretRow } from "./store.js";

export interface RunScope {
  organizationId: number;
  repositoryId: number;
  /** The job's `environment:` (any case), if it names one. */
  environment?: string | null;
}

/** Rows visible to a run, from the highest level to the lowest (later ones win). */
function visible(table: "secrets" | "variables", columns: string, s: RunScope): [string, unknown[]] {
  const env = s.environment == null ? null : checkEnvironment(s.environment);
  return [
    `SELECT ${columns} FROM ${table}
      WHERE organization_id = $1
        AND (repository_id IS NULL OR (repository_id = $2 AND (environment IS NULL OR environment = $3::text)))
      ORDER BY (repository_id IS NOT NULL)::int + (environment IS NOT NULL)::int, name`,
    [s.organizationId, s.repositoryId, env],
  ];
}

function winners<T extends { name: string }>(rows: T[]): Map<string, T> {
  const out = new Map<string, T>();
  for (const r of rows) out.set(r.name, r);
  return out;
}

/** The `secrets` context of a run (decrypted; never for an API response or a log). */
export async function secretsForRun(db: Db, kms: Kms, s: RunScope): Promise<Record<string, string>> {
  const [sql, params] = visible("secrets", SECRET_COLUMNS, s);
  const rows = winners((await db.query<SecretRow>(sql, params)).rows);
  const keys = new Map<number, OrganizationKey>();
  const out: Record<string, string> = {};
  try {
    for (const [name, row] of rows) out[name] = await openSecretRow(db, kms, row, keys);
  } finally {
    for (const k of keys.values()) wipe(k.dek);
  }
  return out;
}

/** The names a run would get (nothing decrypted): for warnings about missing secrets. */
export async function secretNamesForRun(db: Db, s: RunScope): Promise<string[]> {
  const [sql, params] = visible("secrets", "name", s);
  return [...winners((await db.query<{ name: string }>(sql, params)).rows).keys()].sort();
}

/** The rows of one environment only (no organization or repository level). */
function environmentRows(
  table: "secrets" | "variables",
  columns: string,
  s: RunScope & { environment: string },
): [string, unknown[]] {
  return [
    `SELECT ${columns} FROM ${table}
      WHERE organization_id = $1 AND repository_id = $2 AND environment = $3::text ORDER BY name`,
    [s.organizationId, s.repositoryId, checkEnvironment(s.environment)],
  ];
}

/**
 * The secrets of one environment only (decrypted): what a job naming it adds to the secrets it
 * already has. Inside a called workflow those are only what its caller passed, so the
 * organization's and repository's must not come back through the environment (GitHub adds only
 * the environment level).
 */
export async function environmentSecrets(
  db: Db,
  kms: Kms,
  s: RunScope & { environment: string },
): Promise<Record<string, string>> {
  const [sql, params] = environmentRows("secrets", SECRET_COLUMNS, s);
  const rows = (await db.query<SecretRow>(sql, params)).rows;
  const keys = new Map<number, OrganizationKey>();
  const out: Record<string, string> = {};
  try {
    for (const row of rows) out[row.name] = await openSecretRow(db, kms, row, keys);
  } finally {
    for (const k of keys.values()) wipe(k.dek);
  }
  return out;
}

/** The variables of one environment only. */
export async function environmentVars(
  db: Db,
  s: RunScope & { environment: string },
): Promise<Record<string, string>> {
  const [sql, params] = environmentRows("variables", "name, value", s);
  const rows = (await db.query<{ name: string; value: string }>(sql, params)).rows;
  return Object.fromEntries(rows.map((r) => [r.name, r.value]));
}

/** The `vars` context of a run. */
export async function varsForRun(db: Db, s: RunScope): Promise<Record<string, string>> {
  const [sql, params] = visible("variables", "name, value", s);
  const rows = winners((await db.query<{ name: string; value: string }>(sql, params)).rows);
  return Object.fromEntries([...rows].map(([name, r]) => [name, r.value]));
}
