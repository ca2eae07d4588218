// Migrations against a real PostgreSQL: applied once, in order, each in its own transaction,
// serialised by the advisory lock; a failure names its file and leaves earlier ones applied.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { isAirlockError } from "../../src/errors/index.js";
import { defaultMigrationsDir, loadMigrations, migrate } from "../../src/db/index.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";

const fixtures = join(import.meta.dirname, "fixtures");

async function tables(pool: pg.Pool): Promise<string[]> {
  const { rows } = await pool.query<{ t: string }>(
    "SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
  );
  return rows.map((r) => r.t);
}

async function appliedVersions(pool: pg.Pool): Promise<number[]> {
  const { rows } = await pool.query<{ version: number }>(
    "SELECT version FROM schema_migrations ORDER BY version",
  );
  return rows.map((r) => r.version);
}

void describe("migrate", () => {
  const dbs: TestDatabase[] = [];
  const fresh = async (): Promise<TestDatabase> => {
    const db = await createTestDatabase({ empty: true });
    dbs.push(db);
    return db;
  };
  void after(async () => {
    await Promise.all(dbs.map((db) => db.drop()));
  });

  void it("finds the package's migrations folder from the sources", async () => {
    const migrations = await loadMigrations(defaultMigrationsDir());
    assert.equal(migrations[0]?.name, "001_init.sql");
  });

  void it("applies Airlock's migrations once and records them", async () => {
    const { pool } = await fresh();
    const all = await loadMigrations(defaultMigrationsDir());
    assert.deepEqual(
      await migrate(pool),
      all.map((m) => m.name),
    );
    assert.deepEqual(await migrate(pool), []);
    assert.deepEqual(
      await appliedVersions(pool),
      all.map((m) => m.version),
    );
    const { rows } = await pool.query("SELECT id, created_at FROM airlock_instance");
    assert.equal(rows.length, 1);
  });

  void it("applies each migration exactly once when two processes migrate at the same time", async () => {
    const { url } = await fresh();
    const a = new pg.Pool({ connectionString: url, max: 1 });
    const b = new pg.Pool({ connectionString: url, max: 1 });
    try {
      const dir = join(fixtures, "concurrent");
      const [ra, rb] = await Promise.all([migrate(a, dir), migrate(b, dir)]);
      assert.deepEqual([...ra, ...rb].sort(), ["001_first.sql", "002_second.sql"]);
      assert.deepEqual(await appliedVersions(a), [1, 2]);
      assert.deepEqual(await tables(a), ["first_table", "schema_migrations", "second_table"]);
    } finally {
      await Promise.all([a.end(), b.end()]);
    }
  });

  void it("reports MIGRATION_FAILED naming the file and keeps the migrations before it", async () => {
    const { pool } = await fresh();
    const dir = join(fixtures, "failing");
    for (let attempt = 0; attempt < 2; attempt++) {
      const err: unknown = await migrate(pool, dir).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(isAirlockError(err, "MIGRATION_FAILED"), `expected MIGRATION_FAILED, got ${String(err)}`);
      assert.equal((err.details as { file: string }).file, join(dir, "002_broken.sql"));
      assert.deepEqual(await appliedVersions(pool), [1]);
      assert.deepEqual(await tables(pool), ["kept", "schema_migrations"]);
    }
    // The advisory lock was released: another migrator is not blocked.
    const { rows } = await pool.query("SELECT pg_try_advisory_lock($1) AS ok", ["7361626657432001"]);
    assert.equal(rows[0].ok, true);
  });

  void it("refuses a database that has a migration this code does not know", async () => {
    const { pool } = await fresh();
    await migrate(pool);
    await pool.query("INSERT INTO schema_migrations (version, name) VALUES (999, '999_future.sql')");
    await assert.rejects(migrate(pool), (e: unknown) => isAirlockError(e, "MIGRATION_FAILED"));
  });

  void it("refuses two migrations with the same number", async () => {
    await assert.rejects(loadMigrations(join(fixtures, "duplicate")), (e: unknown) =>
      isAirlockError(e, "MIGRATION_FAILED"),
    );
  });

  void describe("compiled output", () => {
    const compiled = join(import.meta.dirname, "..", "..", "dist", "src", "db", "index.js");
    let mod: { defaultMigrationsDir(): string } | undefined;
    void before(async () => {
      if (existsSync(compiled)) mod = (await import(compiled)) as typeof mod;
    });
    void it("finds the same migrations folder from dist/src/db", (t) => {
      if (!mod) return t.skip("not built (npm run build)");
      assert.equal(mod.defaultMigrationsDir(), defaultMigrationsDir());
    });
  });
});
