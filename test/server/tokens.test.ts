// The admin token over a real database: created once and printed once, only its hash stored,
// authenticated by kind. Node agents have no such token (test/server/node-registration.test.ts).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { authenticate, ensureAdminToken, hashToken } from "../../src/orchestrator/tokens/index.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";

let db: TestDatabase;
let admin = "";
before(async () => {
  db = await createTestDatabase();
});
after(async () => {
  await db?.drop();
});

describe("tokens", () => {
  it("creates the admin token once, even when two starts race", async () => {
    const results = await Promise.all([ensureAdminToken(db.pool), ensureAdminToken(db.pool)]);
    const created = results.filter((t) => t !== undefined);
    assert.equal(created.length, 1);
    admin = created[0] ?? "";
    assert.match(admin, /^alk_admin_[A-Za-z0-9_-]{43}$/);
    assert.equal(await ensureAdminToken(db.pool), undefined);
    const { rows } = await db.pool.query("SELECT token_hash FROM api_tokens WHERE kind = 'admin'");
    assert.deepEqual(
      rows.map((r) => r.token_hash),
      [hashToken(created[0] ?? "")],
    );
  });

  it("authenticates the admin token and records use; anything else is refused", async () => {
    const p = await authenticate(db.pool, admin, "admin");
    assert.equal(p?.kind, "admin");
    const { rows } = await db.pool.query("SELECT last_used_at FROM api_tokens WHERE id = $1", [p?.tokenId]);
    assert.ok(rows[0]?.last_used_at instanceof Date);
    assert.equal(await authenticate(db.pool, "", "admin"), undefined);
    assert.equal(await authenticate(db.pool, `alk_admin_${"A".repeat(43)}`, "admin"), undefined);
    assert.equal(await authenticate(db.pool, `alk_node_${"A".repeat(43)}`, "admin"), undefined);
  });
});
