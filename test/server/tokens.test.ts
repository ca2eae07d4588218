// Node agent tokens over a real database: only their hash is stored, and authentication tells
// the kinds apart.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createNode } from "../../src/orchestrator/catalog/index.js";
import { authenticate, createAgentToken } from "../../src/orchestrator/tokens/index.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(async () => {
  await db?.drop();
});

describe("tokens", () => {
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
