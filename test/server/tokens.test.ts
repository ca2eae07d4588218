// API tokens over a real database: the admin token is created once and printed once, only its
// hash is stored, and authentication tells admin from agent tokens.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createNode } from "../../src/orchestrator/catalog/index.js";
import {
  authenticate,
  createAgentToken,
  ensureAdminToken,
  hashToken,
} from "../../src/orchestrator/tokens/index.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";

let db: TestDatabase;
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
    assert.match(created[0] ?? "", /^alk_admin_[A-Za-z0-9_-]{43}$/);
    assert.equal(await ensureAdminToken(db.pool), undefined);
    const { rows } = await db.pool.query("SELECT token_hash FROM api_tokens WHERE kind = 'admin'");
    assert.deepEqual(
      rows.map((r) => r.token_hash),
      [hashToken(created[0] ?? "")],
    );
  });

  it("authenticates by kind and records use", async () => {
    const node = await createNode(db.pool, { name: "n1" });
    const token = await createAgentToken(db.pool, node.id);
    assert.match(token, /^alk_node_/);
    const p = await authenticate(db.pool, token, "agent");
    assert.deepEqual(p && { kind: p.kind, nodeId: p.nodeId }, { kind: "agent", nodeId: node.id });
    assert.equal(await authenticate(db.pool, token, "admin"), undefined);
    assert.equal(
      await authenticate(db.pool, token.slice(0, -1) + (token.endsWith("A") ? "B" : "A"), "agent"),
      undefined,
    );
    assert.equal(await authenticate(db.pool, "", "agent"), undefined);
    const { rows } = await db.pool.query("SELECT last_used_at FROM api_tokens WHERE node_id = $1", [node.id]);
    assert.ok(rows[0]?.last_used_at instanceof Date);
  });
});
