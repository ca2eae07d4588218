// Node credentials end to end, on the real service with real agents (fake provisioner) and agents
// played by the test over a raw WebSocket: an agent registers once and keeps a 0600 credential
// that each connection replaces, after which the captured older one gets 401; a lost
// acknowledgement never locks a node out; revoking a connected node closes its socket at once and
// it can never reconnect; and the `airlock agent` process carries no secret on its command line,
// refusing --token.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { ServerMessage } from "../../src/protocol/agent.js";
import { airlockBin } from "../helpers/repo.js";
import { eventually, startTestService, type TestService } from "../helpers/service.js";

let t: TestService;
let tmp: string;
const cleanups: Array<() => Promise<void> | void> = [];
before(async () => {
  t = await startTestService();
  tmp = await mkdtemp(join(tmpdir(), "airlock-node-cred-"));
});
after(async () => {
  for (const c of cleanups.reverse()) await c();
  await t?.stop();
  await rm(tmp, { recursive: true, force: true });
});

const mode = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;
const wsUrl = (): string => `${t.service.url.replace(/^http/, "ws")}/api/v1/agent`;

/** A raw agent connection: its HTTP status (101 when open) and the messages it received. */
async function dial(
  credential: string,
): Promise<{ status: number; ws: WebSocket; received: ServerMessage[] }> {
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

async function credentialSent(received: ServerMessage[]): Promise<string> {
  const m = await eventually(
    () => Promise.resolve(received.find((x) => x.type === "credential")),
    "the credential message",
  );
  return m.type === "credential" ? m.credential : "";
}

async function closed(ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return;
  await new Promise((resolve) => ws.once("close", resolve));
}

async function pendingHash(nodeId: number): Promise<string | null> {
  const { rows } = await t.db.pool.query("SELECT pending_hash FROM node_credentials WHERE node_id = $1", [
    nodeId,
  ]);
  return rows[0]?.pending_hash ?? null;
}

async function nodeNamed(
  name: string,
): Promise<{ id: number; connected: boolean; revokedAt: string | null }> {
  const r = await t.api<Array<{ id: number; name: string; connected: boolean; revokedAt: string | null }>>(
    "GET",
    "/api/v1/nodes",
  );
  const n = r.body.find((x) => x.name === name);
  if (!n) throw new Error(`no node ${name}`);
  return n;
}

describe("node credentials end to end", () => {
  it("an agent registers once, keeps a 0600 credential, and each connection replaces it", async () => {
    const registration = await t.addNode("rotating");
    const dataDir = join(tmp, "rotating", "agent"); // made by the agent
    const file = join(dataDir, "node-credential");
    const first = await t.startAgent(registration, { fake: true, dataDir });
    const node = await nodeNamed("rotating");
    await eventually(
      async () =>
        (first.status().credentialsSaved === 1 && (await pendingHash(node.id)) === null) || undefined,
      "the first rotation confirmed",
    );
    assert.equal(await mode(file), 0o600);
    assert.equal(await mode(dataDir), 0o700);
    const captured = (await readFile(file, "utf8")).trim();
    assert.match(captured, /^alk_node_/);
    const again = await fetch(`${t.service.url}/api/v1/agent/register`, {
      method: "POST",
      headers: { authorization: `Bearer ${registration}` },
    });
    assert.equal(again.status, 401, "the registration token is used up");

    // A restarted agent connects with the captured credential, which the connection replaces.
    await first.stop();
    const second = await t.startAgent(registration, { fake: true, dataDir });
    await eventually(
      async () =>
        (second.status().credentialsSaved === 1 && (await pendingHash(node.id)) === null) || undefined,
      "the second rotation confirmed",
    );
    const current = (await readFile(file, "utf8")).trim();
    assert.notEqual(current, captured);
    assert.equal((await dial(captured)).status, 401, "the captured credential is dead");
    const listed = await nodeNamed("rotating");
    assert.equal(listed.connected, true, JSON.stringify({ listed, s: second.status() }));
    await second.stop();
    const ok = await dial(current);
    assert.equal(ok.status, 101);
    ok.ws.close();
  });

  it("a lost acknowledgement never locks the node out; presenting the new credential completes it", async () => {
    const c0 = await t.nodeCredential("acks-lost");
    const a = await dial(c0);
    assert.equal(a.status, 101);
    const p1 = await credentialSent(a.received);
    a.ws.terminate(); // saved, then gone before `credential-saved`
    await closed(a.ws);

    const b = await dial(p1);
    assert.equal(b.status, 101, "the pending credential is accepted");
    assert.equal((await dial(c0)).status, 401, "and the old one is dead");
    const p2 = await credentialSent(b.received);
    b.ws.send(JSON.stringify({ type: "credential-saved" }));
    const { id } = await nodeNamed("acks-lost");
    await eventually(async () => ((await pendingHash(id)) === null ? true : undefined), "p2 confirmed");
    assert.equal((await dial(p1)).status, 401);
    const c = await dial(p2);
    assert.equal(c.status, 101);
    c.ws.close();
  });

  it("revoking a connected node closes its socket at once; it gets 401 ever after and stays revoked", async () => {
    const credential = await t.nodeCredential("revoked");
    const conn = await dial(credential);
    assert.equal(conn.status, 101);
    const next = await credentialSent(conn.received);
    const closeCode = new Promise<number>((resolve) => conn.ws.once("close", (code) => resolve(code)));
    const { id } = await nodeNamed("revoked");
    const r = await t.api<{ revokedAt: string | null }>("POST", `/api/v1/nodes/${id}/revoke`);
    assert.equal(r.status, 200, r.text);
    assert.equal(await closeCode, 4401);
    for (const c of [credential, next]) assert.equal((await dial(c)).status, 401);
    const node = await nodeNamed("revoked");
    assert.ok(node.revokedAt);
    assert.equal(node.connected, false);

    // A real agent of a revoked node: refused, and says so.
    const registration = await t.addNode("revoked-agent");
    const agent = await t.startAgent(registration, { fake: true });
    await eventually(() => Promise.resolve(agent.status().connected || undefined), "the agent connected");
    const agentNode = await nodeNamed("revoked-agent");
    assert.equal((await t.api("POST", `/api/v1/nodes/${agentNode.id}/revoke`)).status, 200);
    await eventually(() => Promise.resolve(agent.status().unauthorized || undefined), "the agent refused");
    assert.equal(agent.status().connected, false);
    assert.ok((await nodeNamed("revoked-agent")).revokedAt);
  });

  it("`airlock agent` holds no secret on its command line and refuses --token", async () => {
    const registration = await t.addNode("process");
    const tokenFile = join(tmp, "registration-token");
    await writeFile(tokenFile, `${registration}\n`, { mode: 0o600 });
    const dataDir = join(tmp, "process-agent");
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      AIRLOCK_HOME: join(tmp, "home"),
      AIRLOCK_MACHINES_DIR: join(tmp, "machines"),
    };
    delete env.AIRLOCK_AGENT_TOKEN;
    delete env.AIRLOCK_REGISTRATION_TOKEN;
    const args = [
      airlockBin,
      "agent",
      "--server",
      t.service.url,
      "--data-dir",
      dataDir,
      "--provisioner",
      "fake",
    ];
    const child = spawn(
      process.execPath,
      [
        ...args,
        "--registration-token-file",
        tokenFile,
        "--cpus",
        "2",
        "--memory-mb",
        "2048",
        "--disk-mb",
        "4096",
      ],
      { env, stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    cleanups.push(() => void child.kill("SIGKILL"));
    await eventually(async () => {
      if (child.exitCode !== null) throw new Error(`agent exited: ${stderr}`);
      return (await nodeNamed("process").catch(() => undefined))?.connected || undefined;
    }, "the agent process connected");
    const { id } = await nodeNamed("process");
    await eventually(async () => ((await pendingHash(id)) === null ? true : undefined), "rotation confirmed");
    const credential = (await readFile(join(dataDir, "node-credential"), "utf8")).trim();
    const cmdline = await readFile(`/proc/${child.pid}/cmdline`, "utf8");
    assert.ok(cmdline.includes("--registration-token-file"), cmdline);
    for (const secret of [registration, credential, "alk_reg_", "alk_node_"])
      assert.ok(!cmdline.includes(secret), `${secret} on the command line`);
    assert.equal(await mode(join(dataDir, "node-credential")), 0o600);
    assert.ok(!stderr.includes(registration) && !stderr.includes(credential), "no secret in the log");
    child.kill("SIGTERM");
    assert.equal(await exited, 0, stderr);

    const refused = spawnSync(process.execPath, [...args, "--token", "alk_reg_whatever"], {
      env,
      encoding: "utf8",
    });
    assert.equal(refused.status, 2, refused.stderr);
    assert.match(refused.stderr, /^airlock: agent: --token is refused .*--registration-token-file.*\n$/);
    const legacy = spawnSync(process.execPath, args, {
      env: { ...env, AIRLOCK_AGENT_TOKEN: "x" },
      encoding: "utf8",
    });
    assert.equal(legacy.status, 2, legacy.stderr);
    assert.match(legacy.stderr, /AIRLOCK_REGISTRATION_TOKEN/);
  });
});
