// The agent names why it cannot connect, from real failures (no mocks): connection refused at the
// address, a DNS name that cannot exist (.invalid, RFC 6761), a TLS certificate the agent does not
// trust, the credential refused (401), no agent endpoint at the address (404) and another protocol
// version (the orchestrator's close 4406). Retryable causes are logged once per cause however many
// attempts follow; final ones go to onFinal and the agent stops dialling.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer as createHttpsServer } from "node:https";
import { createServer, type Server } from "node:net";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import type { ConnectCause } from "../../src/agent/index.js";
import { CloseCode } from "../../src/protocol/agent.js";
import { FakeServer } from "./fake-server.js";
import { recordingLogger, tempDir, testAgent, waitFor } from "./helpers.js";

const tmp = tempDir("airlock-connect-cause-");
const cleanup: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
  tmp.remove();
});

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const s: Server = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function start(url: string, name: string, withFinal = true) {
  const log = recordingLogger();
  const finals: ConnectCause[] = [];
  const { agent } = testAgent(url, `${tmp.dir}/${name}`, {
    log,
    backoff: { minMs: 1, maxMs: 5, unauthorizedMs: 600_000 },
    ...(withFinal ? { onFinal: (c: ConnectCause) => void finals.push(c) } : {}),
  });
  cleanup.push(() => agent.stop());
  return { agent, log, finals };
}

const causeLines = (log: ReturnType<typeof recordingLogger>, kind: string) =>
  log.records.filter((r) => (r.obj as { cause?: string }).cause === kind && r.level !== "debug");

describe("the agent names the cause when it cannot connect", () => {
  it("connection refused: one line naming the address, however many retries follow", async () => {
    const port = await closedPort();
    const { agent, log, finals } = start(`http://127.0.0.1:${port}`, "refused");
    await agent.start();
    await waitFor("several attempts", () => agent.status().connectAttempts >= 4);
    const lines = causeLines(log, "connection-refused");
    assert.equal(lines.length, 1, JSON.stringify(log.records));
    assert.equal(lines[0]!.level, "warn");
    assert.match(lines[0]!.msg ?? "", new RegExp(`connection refused at 127\\.0\\.0\\.1:${port}.*retrying`));
    assert.deepEqual(finals, [], "retried, not given up");
  });

  it("a DNS name that does not exist", async () => {
    const { agent, log } = start("http://airlock-no-such-host.invalid:8080", "dns");
    await agent.start();
    const line = await waitFor("the DNS line", () => causeLines(log, "dns")[0]);
    assert.match(line.msg ?? "", /DNS name airlock-no-such-host\.invalid not found/);
  });

  it("a TLS certificate the agent does not trust", async () => {
    execFileSync(
      "openssl",
      [
        ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"],
        ...["-keyout", `${tmp.dir}/key.pem`, "-out", `${tmp.dir}/cert.pem`],
      ],
      { stdio: "ignore" },
    );
    const https = createHttpsServer({
      key: readFileSync(`${tmp.dir}/key.pem`),
      cert: readFileSync(`${tmp.dir}/cert.pem`),
    });
    await new Promise<void>((r) => https.listen(0, "127.0.0.1", r));
    cleanup.push(() => new Promise<void>((r) => https.close(() => r())));
    const port = (https.address() as AddressInfo).port;
    const { agent, log, finals } = start(`https://127.0.0.1:${port}`, "tls");
    await agent.start();
    const line = await waitFor("the TLS line", () => causeLines(log, "tls")[0]);
    assert.match(
      line.msg ?? "",
      /TLS certificate problem with 127\.0\.0\.1:\d+: DEPTH_ZERO_SELF_SIGNED_CERT/,
    );
    assert.deepEqual(finals, []);
  });

  it("401: the credential refused is final: one error line, onFinal, no more dialling", async () => {
    const server = await new FakeServer({ rejectUpgrade: 401 }).start();
    cleanup.push(() => server.close());
    const { agent, log, finals } = start(server.url, "401");
    await agent.start();
    const cause = await waitFor("onFinal", () => finals[0]);
    assert.equal(cause.kind, "unauthorized");
    assert.match(cause.message, /refused the node credential .*reissue-token/);
    assert.equal(causeLines(log, "unauthorized").length, 1);
    assert.equal(causeLines(log, "unauthorized")[0]!.level, "error");
    assert.equal(agent.status().connectAttempts, 1);
    assert.equal(server.received.connections, 1);
  });

  it("404: no agent endpoint at the address is final", async () => {
    const server = await new FakeServer({ rejectUpgrade: 404 }).start();
    cleanup.push(() => server.close());
    const { agent, finals } = start(server.url, "404");
    await agent.start();
    const cause = await waitFor("onFinal", () => finals[0]);
    assert.equal(cause.kind, "not-found");
    assert.match(cause.message, /no agent endpoint at ws:\/\/127\.0\.0\.1:\d+\/api\/v1\/agent \(HTTP 404\)/);
  });

  it("another protocol version (close 4406 with the orchestrator's reason) is final and says so", async () => {
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise<void>((r) => wss.once("listening", r));
    cleanup.push(() => new Promise<void>((r) => wss.close(() => r())));
    wss.on("connection", (ws) =>
      ws.once("message", () =>
        ws.close(
          CloseCode.unsupportedProtocol,
          "agent protocol 2 (airlock 0.1.0) is not supported; this orchestrator speaks protocol 9",
        ),
      ),
    );
    const { agent, finals } = start(`http://127.0.0.1:${(wss.address() as AddressInfo).port}`, "protocol");
    await agent.start();
    const cause = await waitFor("onFinal", () => finals[0]);
    assert.equal(cause.kind, "protocol");
    assert.match(cause.message, /^server version mismatch: agent protocol 2 .*speaks protocol 9; install/);
  });

  it("without onFinal a refused credential is retried slowly, as before", async () => {
    const server = await new FakeServer({ rejectUpgrade: 401 }).start();
    cleanup.push(() => server.close());
    const { agent } = start(server.url, "401-slow", false);
    await agent.start();
    await waitFor("unauthorized", () => agent.status().unauthorized);
    assert.equal(agent.status().connectAttempts, 1, "the next attempt waits the slow delay");
  });
});
