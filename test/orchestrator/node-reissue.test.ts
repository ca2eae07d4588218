// Re-issuing a node's credential on the real service, with a real agent connected: `airlock nodes
// reissue-token` prints the new credential once; the agent holding the old one is disconnected at
// once and refused ever after; the old credential gets 401, the new one connects as the same node; audited without the
// credential; refused for a revoked node. And an agent speaking another protocol version is
// closed with 4406 and a reason naming both versions.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { memoryCredentialStore } from "../../src/agent/index.js";
import { CloseCode, PROTOCOL_VERSION, ServerMessage } from "../../src/protocol/agent.js";
import { runCli, stubEnv } from "../cli/harness.js";
import { eventually, startTestService, type TestService } from "../helpers/service.js";

let t: TestService;
let tmp: string;
const cleanups: Array<() => Promise<void> | void> = [];
before(async () => {
  t = await startTestService();
  tmp = await mkdtemp(join(tmpdir(), "airlock-node-reissue-"));
});
after(async () => {
  for (const c of cleanups.reverse()) await c();
  await t?.stop();
  await rm(tmp, { recursive: true, force: true });
});

const wsUrl = (): string => `${t.service.url.replace(/^http/, "ws")}/api/v1/agent`;

function dial(credential: string): Promise<{ status: number; ws: WebSocket; received: ServerMessage[] }> {
  const ws = new WebSocket(wsUrl(), { headers: { authorization: `Bearer ${credential}` } });
  const received: ServerMessage[] = [];
  ws.on("message", (d: Buffer) => received.push(ServerMessage.parse(JSON.parse(d.toString("utf8")))));
  cleanups.push(() => ws.terminate());
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve({ status: 101, ws, received }));
    ws.once("unexpected-response", (_req, res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, ws, received });
    });
    ws.once("error", reject);
  });
}

async function nodeId(name: string): Promise<number> {
  const r = await t.api<Array<{ id: number; name: string }>>("GET", "/api/v1/nodes");
  const n = r.body.find((x) => x.name === name);
  if (!n) throw new Error(`no node ${name}`);
  return n.id;
}

describe("re-issuing a node credential", () => {
  it("disconnects the agent holding the old one, which is refused ever after; the new one works", async () => {
    const registration = await t.addNode("reissued", ["linux"]);
    const store = memoryCredentialStore();
    const agent = await t.startAgent(registration, { fake: true, credentials: store });
    await eventually(() => Promise.resolve(agent.status().connected || undefined), "the agent connected");
    await eventually(() => Promise.resolve(agent.status().credentialsSaved > 0 || undefined), "rotated");
    const old = store.current()!;
    const id = await nodeId("reissued");

    const home = join(tmp, "home");
    const cli = await runCli(
      ["nodes", "reissue-token", "reissued"],
      stubEnv(t.service.url, home, t.service.adminToken),
    );
    assert.equal(cli.code, 0, cli.stderr);
    const credential = /Shown only this once:\n {2}(\S+)\n/.exec(cli.stdout)?.[1] ?? "";
    assert.match(credential, /^alk_node_/, cli.stdout);
    assert.match(cli.stdout, /its agent was disconnected/);
    assert.match(cli.stdout, /node-credential/);

    await eventually(() => Promise.resolve(agent.status().unauthorized || undefined), "the agent refused");
    assert.equal(agent.status().connected, false);
    assert.equal((await dial(old)).status, 401, "the old credential is dead");
    const fresh = await dial(credential);
    assert.equal(fresh.status, 101, "the new one connects");
    fresh.ws.send(
      JSON.stringify({
        type: "hello",
        protocol: PROTOCOL_VERSION,
        agentVersion: "test",
        node: {
          labels: [],
          cpus: 1,
          memoryMb: 512,
          diskMb: 1024,
          provisioners: ["fake"],
          images: [],
          // Only provisioners the node offers are kept; control characters never reach a terminal.
          provisionerInfo: { fake: "plain processes\u001b[31m\nno wall", vm: "not offered" },
        },
        running: [],
      }),
    );
    const welcome = await eventually(
      () => Promise.resolve(fresh.received.find((m) => m.type === "welcome")),
      "welcome",
    );
    assert.equal(welcome.type === "welcome" && welcome.nodeId, id, "the same node");
    const listed = await t.api<Array<{ id: number; provisionerInfo: Record<string, string> }>>(
      "GET",
      "/api/v1/nodes",
    );
    assert.deepEqual(listed.body.find((n) => n.id === id)?.provisionerInfo, {
      fake: "plain processes?[31m?no wall",
    });
    fresh.ws.close();

    const audit = await t.api<Array<{ action: string; object: { id: string } }>>(
      "GET",
      "/api/v1/audit?action=node",
    );
    const entries = audit.body.filter(
      (e) => e.action === "node.credential_reissued" && e.object.id === String(id),
    );
    assert.equal(entries.length, 1);
    assert.ok(!audit.text.includes(credential) && !audit.text.includes(old));

    assert.equal((await t.api("POST", `/api/v1/nodes/${id}/revoke`)).status, 200);
    const refused = await t.api<{ error: { code: string } }>("POST", `/api/v1/nodes/${id}/credential`);
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.code, "CONFLICT");
    assert.equal((await t.api("POST", "/api/v1/nodes/999999/credential")).status, 404);
    await agent.stop();
  });

  it("an agent speaking another protocol is closed with 4406, the reason naming both versions", async () => {
    const credential = await t.nodeCredential("old-agent");
    const conn = await dial(credential);
    assert.equal(conn.status, 101);
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      conn.ws.once("close", (code, reason) => resolve({ code, reason: reason.toString("utf8") })),
    );
    conn.ws.send(
      JSON.stringify({
        type: "hello",
        protocol: 99,
        agentVersion: "9.9.9",
        node: { labels: [], cpus: 1, memoryMb: 512, diskMb: 1024, provisioners: [], images: [] },
        running: [],
      }),
    );
    const { code, reason } = await closed;
    assert.equal(code, CloseCode.unsupportedProtocol);
    assert.equal(
      reason,
      `agent protocol 99 (airlock 9.9.9) is not supported; this orchestrator speaks protocol ${PROTOCOL_VERSION}`,
    );
  });
});
