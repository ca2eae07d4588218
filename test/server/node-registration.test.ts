// Node registration over HTTP (stub core, real database, a real listening server for the agents'
// WebSocket): registration tokens shown once and listed without them, the exchange answering every
// dead token with the same 401, revocation (agent disconnected, credential dead, node listed), the
// audit entries, and per-address throttling of failed node authentications on the exchange and the
// upgrade (a clock the test moves, never a sleep).
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { WebSocket } from "ws";
import { MemoryFailureLimiter } from "../../src/auth/index.js";
import { registerTestNode, startTestServer, type TestServer } from "./helpers.js";

let s: TestServer;
let base: string;
let now = 1_000_000;
const POLICY = {
  maxFailures: 3,
  windowMs: 60_000,
  lockBaseMs: 60_000,
  lockMaxMs: 600_000,
  forgetMs: 3_600_000,
};

before(async () => {
  s = await startTestServer({}, { nodeAuthLimiter: new MemoryFailureLimiter(POLICY, { now: () => now }) });
  await s.app.listen({ host: "127.0.0.1", port: 0 });
  base = `ws://127.0.0.1:${(s.app.server.address() as AddressInfo).port}/api/v1/agent`;
});
after(async () => {
  await s?.close();
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- free-form JSON answers, checked field by field
type Answer = { status: number; body: any; text: string; headers: Record<string, unknown> };

async function call(
  method: "GET" | "POST" | "PUT" | "DELETE",
  url: string,
  payload?: object,
): Promise<Answer> {
  const res = await s.app.inject({ method, url, headers: s.auth, ...(payload ? { payload } : {}) });
  return {
    status: res.statusCode,
    body: res.body ? JSON.parse(res.body) : undefined,
    text: res.body,
    headers: res.headers,
  };
}

async function exchange(token: string | undefined, remoteAddress = "127.0.0.1"): Promise<Answer> {
  const res = await s.app.inject({
    method: "POST",
    url: "/api/v1/agent/register",
    remoteAddress,
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
  return { status: res.statusCode, body: JSON.parse(res.body), text: res.body, headers: res.headers };
}

/** The HTTP status of a WebSocket upgrade, or 101; the socket when it opened. */
function dial(credential: string, localAddress = "127.0.0.1"): Promise<{ status: number; ws: WebSocket }> {
  const ws = new WebSocket(base, { headers: { authorization: `Bearer ${credential}` }, localAddress });
  return new Promise((resolve, reject) => {
    ws.on("open", () => resolve({ status: 101, ws }));
    ws.on("unexpected-response", (_req, res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, ws });
    });
    ws.on("error", reject);
  });
}

describe("registration tokens over the API", () => {
  it("are shown once, listed with their state and never the token", async () => {
    const made = await call("POST", "/api/v1/nodes/registrations", {
      name: "api-node",
      labels: ["linux"],
      requiredLabels: ["gpu"],
      expiresInMinutes: 90,
    });
    assert.equal(made.status, 201, made.text);
    assert.match(made.body.token, /^alk_reg_/);
    assert.deepEqual(
      [made.body.name, made.body.state, made.body.labels, made.body.requiredLabels, made.body.nodeId],
      ["api-node", "pending", ["linux"], ["gpu"], null],
    );
    const list = await call("GET", "/api/v1/nodes/registrations");
    assert.ok(!list.text.includes(made.body.token.slice(21)), "no token, not even its secret");
    assert.ok(!list.text.includes("alk_reg_"));
    assert.equal(list.body.find((r: { id: number }) => r.id === made.body.id).state, "pending");

    const done = await exchange(made.body.token);
    assert.equal(done.status, 201, done.text);
    assert.equal(done.body.nodeName, "api-node");
    assert.match(done.body.credential, /^alk_node_/);
    const node = (await call("GET", "/api/v1/nodes")).body.find(
      (n: { id: number }) => n.id === done.body.nodeId,
    );
    assert.deepEqual([node.labels, node.requiredLabels], [["linux"], ["gpu"]]);
    const used = (await call("GET", "/api/v1/nodes/registrations")).body.find(
      (r: { id: number }) => r.id === made.body.id,
    );
    assert.deepEqual([used.state, used.nodeId], ["used", done.body.nodeId]);
    assert.equal((await call("DELETE", `/api/v1/nodes/registrations/${made.body.id}`)).status, 409);
    assert.equal((await call("DELETE", "/api/v1/nodes/registrations/999999")).status, 404);
  });

  it("answers a used, expired, revoked, unknown or missing token with the same 401", async () => {
    const used = await call("POST", "/api/v1/nodes/registrations", { name: "used-node" });
    assert.equal((await exchange(used.body.token)).status, 201);
    const expired = await call("POST", "/api/v1/nodes/registrations", { name: "expired-node" });
    await s.db.pool.query(
      "UPDATE node_registrations SET expires_at = now() - interval '1 minute' WHERE id = $1",
      [expired.body.id],
    );
    const revoked = await call("POST", "/api/v1/nodes/registrations", { name: "revoked-node" });
    assert.equal((await call("DELETE", `/api/v1/nodes/registrations/${revoked.body.id}`)).status, 204);
    const unknown = "alk_reg_" + "A".repeat(12) + "_" + "B".repeat(49);
    const answers = [];
    // One address per attempt: these failures are not what this test is about.
    let n = 10;
    for (const token of [used.body.token, expired.body.token, revoked.body.token, unknown, undefined])
      answers.push(await exchange(token, `10.0.0.${n++}`));
    for (const a of answers) {
      assert.equal(a.status, 401);
      assert.equal(a.text, answers[0]?.text, "the same body for every dead token");
      assert.equal(a.body.error.code, "UNAUTHORIZED");
    }
    const names = (await call("GET", "/api/v1/nodes")).body.map((x: { name: string }) => x.name);
    assert.ok(!names.includes("expired-node") && !names.includes("revoked-node"));
  });

  it("refuses a taken or pending name (409) and a bad body (400)", async () => {
    assert.equal((await call("POST", "/api/v1/nodes/registrations", { name: "api-node" })).status, 409);
    assert.equal((await call("POST", "/api/v1/nodes/registrations", { name: "dup" })).status, 201);
    assert.equal((await call("POST", "/api/v1/nodes/registrations", { name: "dup" })).status, 409);
    const bad = await call("POST", "/api/v1/nodes/registrations", {
      name: "x",
      expiresInMinutes: 0,
      token: "x",
    });
    assert.equal(bad.status, 400);
  });
});

describe("worker trust and operator", () => {
  it("come from the registration, are changed only by an administrator, audited, and checked", async () => {
    const made = await call("POST", "/api/v1/nodes/registrations", {
      name: "contributed",
      workerTrust: "untrusted",
      operator: "Alice's lab",
    });
    assert.equal(made.status, 201, made.text);
    assert.deepEqual([made.body.workerTrust, made.body.operator], ["untrusted", "Alice's lab"]);
    assert.equal((await exchange(made.body.token, "127.0.0.9")).status, 201);
    const listed = (await call("GET", "/api/v1/nodes")).body.find(
      (n: { name: string }) => n.name === "contributed",
    );
    assert.deepEqual([listed.workerTrust, listed.operator], ["untrusted", "Alice's lab"]);
    // The default: this installation's own node.
    const own = await registerTestNode(s, { name: "own-node" });
    const ownListed = (await call("GET", "/api/v1/nodes")).body.find(
      (n: { id: number }) => n.id === own.nodeId,
    );
    assert.deepEqual([ownListed.workerTrust, ownListed.operator], ["trusted", null]);

    const set = await call("PUT", `/api/v1/nodes/${listed.id}/worker`, { workerTrust: "trusted" });
    assert.equal(set.status, 200, set.text);
    assert.deepEqual([set.body.workerTrust, set.body.operator], ["trusted", "Alice's lab"], "operator kept");
    const cleared = await call("PUT", `/api/v1/nodes/${listed.id}/worker`, {
      workerTrust: "untrusted",
      operator: null,
    });
    assert.deepEqual([cleared.body.workerTrust, cleared.body.operator], ["untrusted", null]);
    for (const bad of [
      { workerTrust: "maybe" },
      { workerTrust: "trusted", operator: "" },
      { workerTrust: "trusted", operator: "a\nb" },
      { workerTrust: "trusted", score: 5 },
    ]) {
      const r = await call("PUT", `/api/v1/nodes/${listed.id}/worker`, bad);
      assert.equal(r.status, 400, JSON.stringify(bad));
    }
    const after = (await call("GET", "/api/v1/nodes")).body.find((n: { id: number }) => n.id === listed.id);
    assert.deepEqual(
      [after.workerTrust, after.operator],
      ["untrusted", null],
      "a refused change keeps state",
    );
    assert.equal((await call("PUT", "/api/v1/nodes/999999/worker", { workerTrust: "trusted" })).status, 404);
    const audit = await s.db.pool.query<{ details: { workerTrust: string } }>(
      "SELECT details FROM audit_log WHERE action = 'node.worker_set' ORDER BY seq",
    );
    assert.deepEqual(
      audit.rows.map((r) => r.details.workerTrust),
      ["trusted", "untrusted"],
    );
  });
});

describe("revoking a node", () => {
  it("disconnects its agent, kills its credential, keeps it listed, and is audited", async () => {
    const node = await registerTestNode(s, { name: "doomed" });
    const before = s.agents.accepted.length;
    const { status, ws } = await dial(node.credential);
    assert.equal(status, 101);
    ws.close();
    assert.equal(s.agents.accepted.length, before + 1);

    const r = await call("POST", `/api/v1/nodes/${node.nodeId}/revoke`);
    assert.equal(r.status, 200, r.text);
    assert.ok(r.body.revokedAt);
    assert.deepEqual(s.agents.reasons.at(-1), { nodeId: node.nodeId, reason: "node revoked" });
    assert.equal((await dial(node.credential)).status, 401, "the revoked node cannot reconnect");
    const listed = (await call("GET", "/api/v1/nodes")).body.find(
      (n: { id: number }) => n.id === node.nodeId,
    );
    assert.equal(listed.revokedAt, r.body.revokedAt);
    assert.equal((await call("POST", "/api/v1/nodes/999999/revoke")).status, 404);

    const audit = (await call("GET", "/api/v1/audit?action=node")).body as Array<{
      action: string;
      actor: { kind: string };
      object: { kind: string; id: string };
    }>;
    const of = audit
      .filter((e) => e.object.kind === "node" && e.object.id === String(node.nodeId))
      .map((e) => `${e.actor.kind}:${e.action}`);
    assert.deepEqual(of, ["user:node.revoked", "registration:node.registered"]);
    assert.ok(audit.some((e) => e.action === "node.registration_created"));
    assert.ok(audit.some((e) => e.action === "node.registration_revoked"));
    const text = JSON.stringify(audit);
    assert.ok(!text.includes(node.credential) && !text.includes(node.registrationToken));
  });
});

describe("throttling failed node authentications per client address", () => {
  it("on the exchange: 429 before any lookup once locked; other addresses and successes unaffected", async () => {
    const made = await call("POST", "/api/v1/nodes/registrations", { name: "throttled-node" });
    const bad = "alk_reg_" + "C".repeat(12) + "_" + "D".repeat(49);
    for (let i = 0; i < POLICY.maxFailures; i++) assert.equal((await exchange(bad, "192.0.2.1")).status, 401);
    const locked = await exchange(made.body.token, "192.0.2.1");
    assert.equal(locked.status, 429);
    assert.equal(locked.body.error.code, "RATE_LIMITED");
    assert.equal(locked.headers["retry-after"], "60");
    const state = (await call("GET", "/api/v1/nodes/registrations")).body.find(
      (r: { id: number }) => r.id === made.body.id,
    );
    assert.equal(state.state, "pending", "the valid token was not even looked at");

    // Another client: two failures, then a success; neither it nor the success unlocks the first.
    for (let i = 0; i < POLICY.maxFailures - 1; i++)
      assert.equal((await exchange(bad, "192.0.2.2")).status, 401);
    assert.equal((await exchange(made.body.token, "192.0.2.2")).status, 201);
    assert.equal((await exchange(bad, "192.0.2.1")).status, 429);
    // The success did not reset its own count either: one more failure locks it.
    assert.equal((await exchange(bad, "192.0.2.2")).status, 401);
    assert.equal((await exchange(bad, "192.0.2.2")).status, 429);

    now += POLICY.lockBaseMs;
    assert.equal((await exchange(bad, "192.0.2.1")).status, 401, "unlocked when the lock ran out");
  });

  it("on the WebSocket upgrade, with one limiter for both", async () => {
    const node = await registerTestNode(s, { name: "ws-throttled" });
    const forged = node.credential.slice(0, 22) + "Z".repeat(49);
    for (let i = 0; i < POLICY.maxFailures; i++) assert.equal((await dial(forged, "127.0.0.3")).status, 401);
    const accepted = s.agents.accepted.length;
    assert.equal((await dial(node.credential, "127.0.0.3")).status, 429);
    assert.equal(s.agents.accepted.length, accepted);
    // The same address is locked on the exchange too; another address gets through.
    assert.equal((await exchange("x", "127.0.0.3")).status, 429);
    const other = await dial(node.credential, "127.0.0.4");
    assert.equal(other.status, 101);
    other.ws.close();
    now += POLICY.lockBaseMs;
    const later = await dial(node.credential, "127.0.0.3");
    assert.equal(later.status, 101);
    later.ws.close();
  });
});
