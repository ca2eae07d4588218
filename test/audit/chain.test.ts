// The audit log's chain in a real PostgreSQL: appends from several pools at once keep one valid
// chain, the triggers refuse changes, and every kind of tampering done behind the triggers' back
// is found and named — the end of the log only against a checkpoint.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import {
  appendAudit,
  hashEntry,
  listAudit,
  verifyAuditChain,
  verifyAuditDb,
  GENESIS_HASH,
  type AuditEntry,
  type ChainResult,
} from "../../src/audit/index.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { dropTriggers, fill, tamper } from "./helpers.js";

function broken(r: ChainResult): { seq: number | null; reason: string } {
  assert.equal(r.ok, false, `expected a broken chain, got ${JSON.stringify(r)}`);
  return r.ok ? { seq: -1, reason: "" } : { seq: r.seq, reason: r.reason };
}

/** A fresh database with `n` entries per test: tampering must not leak between cases. */
async function withLog(
  n: number,
  fn: (db: TestDatabase, entries: AuditEntry[]) => Promise<void> | void,
): Promise<void> {
  const db = await createTestDatabase();
  try {
    await fn(db, await fill(db.pool, n));
  } finally {
    await db.drop();
  }
}

describe("audit log: appends", () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    await db.drop();
  });

  it("an empty log verifies with the genesis head", async () => {
    assert.deepEqual(await verifyAuditDb(db.pool), { ok: true, count: 0, head: GENESIS_HASH, lastSeq: 0 });
  });

  it("appends from several pools at once keep one gap-free, valid chain", async () => {
    const pools = Array.from({ length: 4 }, () => new pg.Pool({ connectionString: db.url, max: 3 }));
    try {
      await Promise.all(
        pools.flatMap((p, pi) =>
          Array.from({ length: 15 }, (_, i) =>
            appendAudit(p, { actor: { kind: "system" }, action: "test.concurrent", details: { pi, i } }),
          ),
        ),
      );
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
    const r = await verifyAuditDb(db.pool, { batch: 7 });
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.count, 60);
    const { rows } = await db.pool.query<{ n: string; max: string }>(
      "SELECT count(DISTINCT seq) AS n, max(seq) AS max FROM audit_log",
    );
    assert.deepEqual(rows[0], { n: "60", max: "60" });
  });

  it("inside a caller's transaction the entry commits or rolls back with it", async () => {
    const before = (await verifyAuditDb(db.pool)) as { count: number };
    const client = await db.pool.connect();
    try {
      await client.query("BEGIN");
      await appendAudit(client, { actor: { kind: "system" }, action: "test.rolled_back" });
      await client.query("ROLLBACK");
      await client.query("BEGIN");
      const e = await appendAudit(client, { actor: { kind: "system" }, action: "test.committed" });
      await client.query("COMMIT");
      assert.equal(e.seq, before.count + 1, "a rolled-back append leaves no gap");
      // A client outside any transaction: the append makes its own.
      const own = await appendAudit(client, { actor: { kind: "system" }, action: "test.autocommit" });
      assert.equal(own.seq, before.count + 2);
    } finally {
      client.release();
    }
    const r = await verifyAuditDb(db.pool);
    assert.ok(r.ok);
    assert.equal((await listAudit(db.pool, { action: "test.rolled_back" })).length, 0);
  });

  it("what was appended is what is listed, byte for byte, and hashes the same", async () => {
    const [e] = await fill(db.pool, 3).then((x) => x.slice(2));
    assert.ok(e);
    const [listed] = await listAudit(db.pool, { limit: 1 });
    assert.deepEqual(listed, e);
    assert.equal(hashEntry(e), e.hash);
    assert.equal(e.details.weird, "nul\uFFFD and lone \uFFFD surrogate");
    assert.match(e.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });

  it("a bad action is refused before anything is written", async () => {
    await assert.rejects(appendAudit(db.pool, { actor: { kind: "system" }, action: "Not An Action" }), {
      code: "USAGE",
    });
  });

  it("the triggers refuse UPDATE, DELETE and TRUNCATE with a clear message", async () => {
    for (const sql of [
      "UPDATE audit_log SET action = 'x.y' WHERE seq = 1",
      "DELETE FROM audit_log WHERE seq = 1",
      "TRUNCATE audit_log",
    ])
      await assert.rejects(db.pool.query(sql), /audit_log is append-only: (UPDATE|DELETE|TRUNCATE) refused/);
    assert.ok((await verifyAuditDb(db.pool)).ok);
  });
});

describe("audit log: tampering behind the triggers", () => {
  it("an edited field", async () => {
    await withLog(6, async (db) => {
      await tamper(db.pool, "UPDATE audit_log SET client_address = '10.0.0.9' WHERE seq = 3");
      assert.deepEqual(broken(await verifyAuditDb(db.pool)), { seq: 3, reason: "edited" });
    });
  });

  it("edited details (jsonb), with the triggers dropped for good", async () => {
    await withLog(6, async (db) => {
      await dropTriggers(db.pool);
      await db.pool.query(`UPDATE audit_log SET details = details || '{"i": 99}' WHERE seq = 5`);
      assert.deepEqual(broken(await verifyAuditDb(db.pool)), { seq: 5, reason: "edited" });
    });
  });

  it("an edited entry whose own hash was recomputed breaks the link to the next", async () => {
    await withLog(6, async (db) => {
      const [e3] = await listAudit(db.pool, { before: 4, limit: 1 });
      assert.ok(e3);
      const forged = { ...e3, action: "repository.deleted" };
      await tamper(db.pool, "UPDATE audit_log SET action = $2, hash = $3 WHERE seq = $1", [
        3,
        forged.action,
        hashEntry(forged),
      ]);
      assert.deepEqual(broken(await verifyAuditDb(db.pool)), { seq: 3, reason: "edited" });
    });
  });

  for (const [where, seq] of [
    ["first", 1],
    ["middle", 4],
  ] as const)
    it(`a removed entry (${where})`, async () => {
      await withLog(6, async (db) => {
        await tamper(db.pool, "DELETE FROM audit_log WHERE seq = $1", [seq]);
        assert.deepEqual(broken(await verifyAuditDb(db.pool)), { seq, reason: "removed" });
      });
    });

  it("a removed last entry shows only against a checkpoint (count and head)", async () => {
    await withLog(6, async (db, entries) => {
      const head = entries.at(-1)?.hash ?? "";
      await tamper(db.pool, "DELETE FROM audit_log WHERE seq = 6");
      const alone = await verifyAuditDb(db.pool);
      assert.ok(alone.ok && alone.count === 5, "without a checkpoint the shorter chain is valid");
      assert.deepEqual(broken(await verifyAuditDb(db.pool, { expect: { count: 6, head } })), {
        seq: 6,
        reason: "removed",
      });
      assert.deepEqual(broken(await verifyAuditDb(db.pool, { expect: { head } })), {
        seq: null,
        reason: "checkpoint",
      });
      // An older checkpoint still holds: the log only grew since.
      assert.ok((await verifyAuditDb(db.pool, { expect: { count: 3, head: entries[2]?.hash ?? "" } })).ok);
    });
  });

  it("an inserted entry (the ones after it renumbered)", async () => {
    await withLog(6, async (db, entries) => {
      await dropTriggers(db.pool);
      await db.pool.query("UPDATE audit_log SET seq = seq + 1000 WHERE seq >= 3");
      await db.pool.query("UPDATE audit_log SET seq = seq - 999 WHERE seq > 1000");
      const forged = {
        seq: 3,
        at: "2030-01-01T00:00:00.000000Z",
        actor: { kind: "system", id: null, display: null },
        action: "approval.granted",
        object: null,
        clientAddress: null,
        details: {},
        prevHash: entries[1]?.hash ?? "",
      };
      await db.pool.query(
        `INSERT INTO audit_log (seq, at, actor_kind, action, details, prev_hash, hash)
         VALUES (3, $1, 'system', 'approval.granted', '{}', $2, $3)`,
        [forged.at, forged.prevHash, hashEntry(forged)],
      );
      assert.deepEqual(broken(await verifyAuditDb(db.pool)), { seq: 3, reason: "inserted" });
    });
  });

  it("two entries swapped", async () => {
    await withLog(6, async (db) => {
      await dropTriggers(db.pool);
      await db.pool.query("UPDATE audit_log SET seq = 1000 WHERE seq = 2");
      await db.pool.query("UPDATE audit_log SET seq = 2 WHERE seq = 3");
      await db.pool.query("UPDATE audit_log SET seq = 3 WHERE seq = 1000");
      assert.deepEqual(broken(await verifyAuditDb(db.pool)), { seq: 2, reason: "reordered" });
    });
  });

  it("a first entry that does not chain to the genesis value", async () => {
    await withLog(3, async (db) => {
      const [e1] = await listAudit(db.pool, { before: 2, limit: 1 });
      assert.ok(e1);
      const forged = { ...e1, prevHash: "f".repeat(64) };
      await tamper(db.pool, "UPDATE audit_log SET prev_hash = $1, hash = $2 WHERE seq = 1", [
        forged.prevHash,
        hashEntry(forged),
      ]);
      assert.deepEqual(broken(await verifyAuditDb(db.pool)), { seq: 1, reason: "genesis" });
    });
  });

  it("a chain recomputed from an edited entry on is found only against a checkpoint", async () => {
    await withLog(6, async (db, entries) => {
      const head = entries.at(-1)?.hash ?? "";
      const all = (await listAudit(db.pool, { limit: 1000 })).reverse();
      let prev = all[1]?.hash ?? "";
      await dropTriggers(db.pool);
      for (const e of all.slice(2)) {
        const changed = { ...e, prevHash: prev, ...(e.seq === 3 ? { action: "secret.changed" } : {}) };
        const hash = hashEntry(changed);
        await db.pool.query("UPDATE audit_log SET action = $2, prev_hash = $3, hash = $4 WHERE seq = $1", [
          e.seq,
          changed.action,
          prev,
          hash,
        ]);
        prev = hash;
      }
      assert.ok((await verifyAuditDb(db.pool)).ok, "a consistent rewrite passes on its own");
      assert.deepEqual(broken(await verifyAuditDb(db.pool, { expect: { count: 6, head } })), {
        seq: 6,
        reason: "checkpoint",
      });
      assert.equal(broken(await verifyAuditDb(db.pool, { expect: { head } })).reason, "checkpoint");
    });
  });
});

describe("verifyAuditChain (pure)", () => {
  it("names reordered and duplicated entries in an array out of seq order", async () => {
    await withLog(4, (_db, entries) => {
      const [a, b, c, d] = entries as [AuditEntry, AuditEntry, AuditEntry, AuditEntry];
      assert.deepEqual(verifyAuditChain([a, b, c, d]), { ok: true, count: 4, head: d.hash, lastSeq: 4 });
      assert.equal(broken(verifyAuditChain([a, b, d, c])).reason, "removed");
      assert.deepEqual(broken(verifyAuditChain([a, c, b])), { seq: 2, reason: "removed" });
      assert.deepEqual(broken(verifyAuditChain([a, b, b, c])), { seq: 2, reason: "inserted" });
      assert.deepEqual(broken(verifyAuditChain([a, b, c, { ...b, seq: 2 }])), {
        seq: 2,
        reason: "reordered",
      });
    });
  });
});
