// Applies Airlock's numbered `.sql` migrations (001_init.sql, ...) in order, each in its own
// transaction, under a PostgreSQL advisory lock so several processes can start at once: the
// first applies, the others wait and then find nothing left to do.
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type pg from "pg";
import { AirlockError, ErrorCode } from "../errors/index.js";
import { defaultMigrationsDir } from "./package-root.js";

/** Advisory lock key shared by every Airlock process migrating the same database. */
export const MIGRATION_LOCK_KEY = 7_361_626_657_432_001n;

export interface Migration {
  version: number;
  name: string;
  file: string;
  sql: string;
}

const FILE_PATTERN = /^(\d+)_[A-Za-z0-9_-]+\.sql$/;

/** Reads the migrations of `dir`, ordered by version. Rejects duplicate versions. */
export async function loadMigrations(dir: string = defaultMigrationsDir()): Promise<Migration[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (cause) {
    throw new AirlockError(ErrorCode.MIGRATION_FAILED, `cannot read migrations folder ${dir}`, { cause });
  }
  const migrations: Migration[] = [];
  for (const name of names) {
    const match = FILE_PATTERN.exec(name);
    if (!match?.[1]) continue;
    const file = join(dir, name);
    migrations.push({
      version: Number.parseInt(match[1], 10),
      name,
      file,
      sql: await readFile(file, "utf8"),
    });
  }
  migrations.sort((a, b) => a.version - b.version);
  for (let i = 1; i < migrations.length; i++) {
    const [prev, cur] = [migrations[i - 1], migrations[i]];
    if (prev && cur && prev.version === cur.version) {
      throw new AirlockError(
        ErrorCode.MIGRATION_FAILED,
        `two migrations share a number: ${prev.name}, ${cur.name}`,
        {
          details: { file: cur.file },
        },
      );
    }
  }
  return migrations;
}

/** A digest of the migrations' names and contents: changes whenever a migration is added or edited. */
export function migrationsHash(migrations: readonly Migration[]): string {
  const hash = createHash("sha256");
  for (const m of migrations) hash.update(`${m.name}\0${m.sql}\0`);
  return hash.digest("hex");
}

/**
 * Applies pending migrations and returns the names of those it applied (empty when up to date).
 * A failing migration is rolled back alone and reported as MIGRATION_FAILED naming its file;
 * the ones before it stay applied.
 */
export async function migrate(pool: pg.Pool, dir?: string): Promise<string[]> {
  const migrations = await loadMigrations(dir);
  const client = await pool.connect();
  let broken: unknown;
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY.toString()]);
    try {
      return await applyPending(client, migrations);
    } finally {
      await client
        .query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY.toString()])
        .catch((err: unknown) => {
          broken = err;
        });
    }
  } finally {
    // A connection whose unlock failed may still hold the lock: destroy it rather than reuse it.
    client.release(broken instanceof Error ? broken : undefined);
  }
}

async function applyPending(client: pg.PoolClient, migrations: Migration[]): Promise<string[]> {
  await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`);
  const { rows } = await client.query<{ version: number; name: string }>(
    "SELECT version, name FROM schema_migrations ORDER BY version",
  );
  const known = new Map(migrations.map((m) => [m.version, m]));
  for (const row of rows) {
    const mine = known.get(row.version);
    if (!mine) {
      throw new AirlockError(
        ErrorCode.MIGRATION_FAILED,
        `the database has migration ${row.name}, which this Airlock does not know (is it older than the database?)`,
        { details: { file: row.name } },
      );
    }
    if (mine.name !== row.name) {
      throw new AirlockError(
        ErrorCode.MIGRATION_FAILED,
        `migration ${row.version} was applied as ${row.name} but is now ${mine.name} (migrations are append-only)`,
        { details: { file: mine.file } },
      );
    }
  }
  const applied = new Set(rows.map((r) => r.version));
  const done: string[] = [];
  for (const m of migrations) {
    if (applied.has(m.version)) continue;
    await client.query("BEGIN");
    try {
      await client.query(m.sql);
      await client.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [
        m.version,
        m.name,
      ]);
      await client.query("COMMIT");
    } catch (cause) {
      await client.query("ROLLBACK").catch(() => undefined);
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new AirlockError(ErrorCode.MIGRATION_FAILED, `migration ${m.name} failed: ${reason}`, {
        cause,
        details: { file: m.file },
      });
    }
    done.push(m.name);
  }
  return done;
}
