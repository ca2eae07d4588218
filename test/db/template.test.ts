// The test-database helper: every database is a migrated clone of the template, isolated from
// the others, and gone once dropped.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import pg from "pg";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";

void describe("createTestDatabase", () => {
  const dbs: TestDatabase[] = [];
  void after(async () => {
    await Promise.all(dbs.map((db) => db.drop()));
  });

  void it("clones migrated, isolated databases", async () => {
    const [one, two] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    assert.ok(one && two);
    dbs.push(one, two);
    assert.notEqual(one.name, two.name);
    for (const db of [one, two]) {
      const { rows } = await db.pool.query("SELECT count(*)::int AS n FROM airlock_instance");
      assert.equal(rows[0].n, 1);
    }
    await one.pool.query("CREATE TABLE only_in_one (id int)");
    const { rows } = await two.pool.query("SELECT to_regclass('public.only_in_one') AS t");
    assert.equal(rows[0].t, null);
    const mine = await one.pool.query("SELECT to_regclass('public.only_in_one') AS t");
    assert.equal(mine.rows[0].t, "only_in_one");
  });

  void it("drops the database (idempotently)", async () => {
    const keep = await createTestDatabase();
    dbs.push(keep);
    const db = await createTestDatabase();
    await db.drop();
    await db.drop();
    const { rows } = await keep.pool.query("SELECT 1 FROM pg_database WHERE datname = $1", [db.name]);
    assert.equal(rows.length, 0);
    const client = new pg.Client({ connectionString: db.url });
    client.on("error", () => undefined);
    await assert.rejects(client.connect(), (e: unknown) => (e as { code?: string }).code === "3D000");
  });
});
