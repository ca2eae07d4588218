// Test helpers for secrets: a temporary folder, a local KMS in it, and organizations,
// repositories and runs inserted directly (the catalog is tested elsewhere).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type pg from "pg";
import { openKms, type Kms } from "../../src/secrets/index.js";

export interface TempDir {
  dir: string;
  remove(): Promise<void>;
}

export async function tempDir(prefix = "airlock-secrets-"): Promise<TempDir> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export function localKms(dir: string, file = "kms.key"): Promise<Kms> {
  return openKms({ provider: "local", keyFile: join(dir, file) });
}

export async function seedOrganization(pool: pg.Pool, name: string): Promise<number> {
  const { rows } = await pool.query<{ id: string }>(
    "INSERT INTO organizations (name) VALUES ($1) RETURNING id",
    [name],
  );
  return Number(rows[0]!.id);
}

export async function seedRepository(pool: pg.Pool, organizationId: number, name: string): Promise<number> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO repositories (organization_id, name, clone_url, webhook_secret)
     VALUES ($1, $2, $3, 'hook') RETURNING id`,
    [organizationId, name, `/srv/${name}`],
  );
  return Number(rows[0]!.id);
}

export async function seedRun(pool: pg.Pool, repositoryId: number): Promise<number> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO runs (repository_id, number, event, ref, commit, trigger)
     VALUES ($1, (SELECT coalesce(max(number), 0) + 1 FROM runs WHERE repository_id = $1), 'push',
             'refs/heads/main', $2, 'manual') RETURNING id`,
    [repositoryId, "c".repeat(40)],
  );
  return Number(rows[0]!.id);
}
