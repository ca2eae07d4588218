// Node authentication over a real database (src/orchestrator/node-auth): a registration token is
// single-use even when exchanged twice at once, dead once expired or revoked; only digests are
// stored; the credential rotation keeps current and pending so no step can lock a node out, and
// the old secret dies once the new one is confirmed or presented; revocation kills every secret.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createNode, listNodes } from "../../src/orchestrator/catalog/index.js";
import {
  authenticateNode,
  beginRotation,
  confirmRotation,
  createRegistration,
  exchangeRegistration,
  listRegistrations,
  resetNodeCredential,
  revokeNode,
  revokeRegistration,
  type Exchanged,
} from "../../src/orchestrator/node-auth/index.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(async () => {
  await db?.drop();
});

const exchange = (token: string): Promise<Exchanged | undefined> =>
  exchangeRegistration(db.pool, token, () => Promise.resolve());

/** A registered node and its first credential. */
async function registered(name: string): Promise<Exchanged> {
  const { token } = await createRegistration(db.pool, { name });
  const done = await exchange(token);
  assert.ok(done);
  return done;
}

async function rowOf(nodeId: number): Promise<{ current_hash: string; pending_hash: string | null }> {
  const { rows } = await db.pool.query("SELECT * FROM node_credentials WHERE node_id = $1", [nodeId]);
  return rows[0];
}

describe("registration tokens", () => {
  it("are made with an expiry, stored as a digest, and exchanged once for a node", async () => {
    const { token, registration } = await createRegistration(db.pool, {
      name: "reg-1",
      labels: ["linux"],
      requiredLabels: ["gpu"],
      expiresInMinutes: 30,
    });
    assert.match(token, /^alk_reg_[0-9A-Za-z]{12}_[0-9A-Za-z]{49}$/);
    assert.equal(registration.state, "pending");
    const minutes = (Date.parse(registration.expiresAt) - Date.parse(registration.createdAt)) / 60_000;
    assert.ok(Math.abs(minutes - 30) < 1, String(minutes));
    const { rows } = await db.pool.query("SELECT public_id, secret_hash FROM node_registrations");
    assert.ok(!JSON.stringify(rows).includes(token.slice(21, 64)), "the secret is not stored");

    const done = await exchange(token);
    assert.ok(done);
    assert.deepEqual(
      [done.node.name, done.node.labels, done.node.requiredLabels],
      ["reg-1", ["linux"], ["gpu"]],
    );
    assert.match(done.credential, /^alk_node_[0-9A-Za-z]{12}_[0-9A-Za-z]{49}$/);
    assert.equal(await exchange(token), undefined, "single use");
    const listed = (await listRegistrations(db.pool)).find((r) => r.id === registration.id);
    assert.equal(listed?.state, "used");
    assert.equal(listed?.nodeId, done.node.id);
    const cred = await db.pool.query("SELECT * FROM node_credentials WHERE node_id = $1", [done.node.id]);
    assert.ok(!JSON.stringify(cred.rows).includes(done.credential.slice(22, 65)));
  });

  it("exchanged by two agents at once makes exactly one node", async () => {
    const { token } = await createRegistration(db.pool, { name: "raced" });
    const results = await Promise.all(Array.from({ length: 6 }, () => exchange(token)));
    assert.equal(results.filter((r) => r !== undefined).length, 1);
    assert.equal((await listNodes(db.pool)).filter((n) => n.name === "raced").length, 1);
    const { rows } = await db.pool.query(
      "SELECT count(*)::int AS n FROM node_credentials c JOIN nodes n ON n.id = c.node_id WHERE n.name = 'raced'",
    );
    assert.equal(rows[0].n, 1);
  });

  it("is dead once expired or revoked, and says nothing about which", async () => {
    const expired = await createRegistration(db.pool, { name: "late" });
    await db.pool.query(
      "UPDATE node_registrations SET expires_at = now() - interval '1 second' WHERE id = $1",
      [expired.registration.id],
    );
    assert.equal(await exchange(expired.token), undefined);
    const revoked = await createRegistration(db.pool, { name: "unwanted" });
    assert.equal((await revokeRegistration(db.pool, revoked.registration.id)).state, "revoked");
    assert.equal((await revokeRegistration(db.pool, revoked.registration.id)).state, "revoked", "idempotent");
    assert.equal(await exchange(revoked.token), undefined);
    const states = new Map((await listRegistrations(db.pool)).map((r) => [r.name, r.state]));
    assert.equal(states.get("late"), "expired");
    assert.equal(states.get("unwanted"), "revoked");
    for (const garbage of ["", "alk_reg_x", revoked.token.replace(/.$/, "x"), expired.token + "x"])
      assert.equal(await exchange(garbage), undefined);
    assert.equal((await listNodes(db.pool)).filter((n) => ["late", "unwanted"].includes(n.name)).length, 0);
  });

  it("refuses a taken name, a second pending one, a bad lifetime; used ones cannot be revoked", async () => {
    await assert.rejects(createRegistration(db.pool, { name: "reg-1" }), { code: "CONFLICT" });
    const pending = await createRegistration(db.pool, { name: "twice" });
    await assert.rejects(createRegistration(db.pool, { name: "twice" }), { code: "CONFLICT" });
    for (const expiresInMinutes of [0, 7 * 24 * 60 + 1, 1.5])
      await assert.rejects(createRegistration(db.pool, { name: "n", expiresInMinutes }), { code: "USAGE" });
    const used = (await listRegistrations(db.pool)).find((r) => r.name === "reg-1");
    await assert.rejects(revokeRegistration(db.pool, used!.id), { code: "CONFLICT" });
    await assert.rejects(revokeRegistration(db.pool, 999999), { code: "NOT_FOUND" });
    // A node of that name appearing meanwhile: CONFLICT, and the token is not used up.
    await createNode(db.pool, { name: "twice" });
    await assert.rejects(exchange(pending.token), { code: "CONFLICT" });
    const after = (await listRegistrations(db.pool)).find((r) => r.id === pending.registration.id);
    assert.equal(after?.state, "pending");
  });
});

describe("node credentials", () => {
  it("rotate: both secrets work until the new one is confirmed; then only the new one", async () => {
    const { node, credential: c0 } = await registered("rot-1");
    assert.deepEqual(await authenticateNode(db.pool, c0), { nodeId: node.id });
    const next = await beginRotation(db.pool, node.id);
    assert.ok(next);
    assert.notEqual(next.credential, c0);
    assert.equal(next.credential.slice(0, 22), c0.slice(0, 22), "the node's public id stays");
    // A crash before the agent saved it, or a lost acknowledgement: either secret still works.
    assert.deepEqual(await authenticateNode(db.pool, c0), { nodeId: node.id });
    assert.equal((await rowOf(node.id)).pending_hash, next.pendingHash);
    assert.equal(await confirmRotation(db.pool, node.id, next.pendingHash), true);
    assert.equal(await confirmRotation(db.pool, node.id, next.pendingHash), false, "idempotent");
    assert.equal(await authenticateNode(db.pool, c0), undefined, "the old secret is dead");
    assert.deepEqual(await authenticateNode(db.pool, next.credential), { nodeId: node.id });
    const { rows } = await db.pool.query("SELECT last_connected_at FROM nodes WHERE id = $1", [node.id]);
    assert.ok(rows[0].last_connected_at instanceof Date);
    const listed = (await listNodes(db.pool)).find((n) => n.id === node.id);
    assert.ok(listed?.credentialRotatedAt && listed.lastConnectedAt);
  });

  it("presenting the pending secret completes the rotation (the acknowledgement was lost)", async () => {
    const { node, credential: c0 } = await registered("rot-2");
    const p1 = await beginRotation(db.pool, node.id);
    assert.ok(p1);
    assert.deepEqual(await authenticateNode(db.pool, p1.credential), { nodeId: node.id });
    assert.equal((await rowOf(node.id)).pending_hash, null);
    assert.equal(await authenticateNode(db.pool, c0), undefined);
    // A later confirmation of the same secret changes nothing.
    assert.equal(await confirmRotation(db.pool, node.id, p1.pendingHash), false);
    assert.deepEqual(await authenticateNode(db.pool, p1.credential), { nodeId: node.id });
    // A rotation the agent never saved is replaced by the next connection's.
    const p2 = await beginRotation(db.pool, node.id);
    const p3 = await beginRotation(db.pool, node.id);
    assert.ok(p2 && p3);
    assert.equal(await authenticateNode(db.pool, p2.credential), undefined);
    assert.deepEqual(await authenticateNode(db.pool, p1.credential), { nodeId: node.id });
  });

  it("refuses a tampered or another node's secret", async () => {
    const a = await registered("cmp-a");
    const b = await registered("cmp-b");
    const mixed = a.credential.slice(0, 22) + b.credential.slice(22);
    assert.equal(await authenticateNode(db.pool, mixed), undefined);
    assert.equal(await authenticateNode(db.pool, a.credential.replace("alk_node_", "alk_reg_")), undefined);
    assert.equal(await authenticateNode(db.pool, ""), undefined);
  });

  it("die with a revoked node, which stays listed and gets no new ones", async () => {
    const { node, credential } = await registered("gone");
    const pending = await beginRotation(db.pool, node.id);
    const revoked = await revokeNode(db.pool, node.id);
    assert.ok(revoked.revokedAt);
    assert.equal(await authenticateNode(db.pool, credential), undefined);
    assert.equal(await authenticateNode(db.pool, pending!.credential), undefined);
    assert.equal(await beginRotation(db.pool, node.id), undefined);
    await assert.rejects(resetNodeCredential(db.pool, node.id), { code: "CONFLICT" });
    const again = await revokeNode(db.pool, node.id);
    assert.equal(again.revokedAt, revoked.revokedAt, "the first revocation's time stays");
    assert.ok((await listNodes(db.pool)).some((n) => n.id === node.id && n.revokedAt));
    await assert.rejects(revokeNode(db.pool, 999999), { code: "NOT_FOUND" });
  });

  it("are reset in place by the process that holds the database (airlock up)", async () => {
    const { node, credential } = await registered("local-ish");
    const fresh = await resetNodeCredential(db.pool, node.id);
    assert.equal(await authenticateNode(db.pool, credential), undefined);
    assert.deepEqual(await authenticateNode(db.pool, fresh), { nodeId: node.id });
    const bare = await createNode(db.pool, { name: "no-credential-yet" });
    assert.deepEqual(await authenticateNode(db.pool, await resetNodeCredential(db.pool, bare.id)), {
      nodeId: bare.id,
    });
  });
});
