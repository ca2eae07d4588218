// The egress proxy on its own, against a real server that is not on this host (a network
// namespace at a TEST-NET address) and a real DNS server: plain HTTP and CONNECT allowed, and
// every refusal — not listed, names resolving to loopback / cloud metadata / a private address,
// the node's own address, TLS SNI mismatch, malformed and oversized requests — recorded.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { connect as netConnect, type Socket } from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { connect as tlsConnect } from "node:tls";
import {
  createEgressProxy,
  parseAllowList,
  recordLine,
  type EgressProxy,
  type EgressRecord,
  type EgressSession,
} from "../../src/egress/index.js";
import { canRunNetns, startInternet, type Internet } from "./internet.js";

const skip = canRunNetns ? false : "needs root and iproute2 (network namespaces)";
let net: Internet;
let proxy: EgressProxy;
let session: EgressSession;
const records: EgressRecord[] = [];
const dir = mkdtempSync(path.join(os.tmpdir(), "airlock-egress-proxy-"));

before(async () => {
  if (skip) return;
  net = await startInternet("198.51.100.0", {
    "www.test.example": ["SERVER"],
    "front.test.example": ["SERVER"],
    "other.test.example": ["SERVER"],
    "loop.test.example": ["127.0.0.1"],
    "meta.test.example": ["169.254.169.254"],
    "mixed.test.example": ["SERVER", "10.0.0.5"],
    "mapped.test.example": ["::ffff:7f00:1"],
  });
  proxy = createEgressProxy({
    socketDir: path.join(dir, "sockets"),
    resolver: { servers: [net.dns.address] },
    limits: { helloTimeoutMs: 1000, maxHeaderBytes: 4096 },
  });
  const { list, problems } = parseAllowList([
    "www.test.example:80",
    "www.test.example:443",
    "front.test.example:443",
    "*.test.example:8443",
    "loop.test.example:443",
    "meta.test.example:80",
    "mixed.test.example:443",
    "mapped.test.example:443",
    "nx.test.example:443",
    "198.51.100.1:80",
    "198.51.100.2:443",
  ]);
  assert.deepEqual(problems, []);
  session = await proxy.open(list, (r) => records.push(r));
});
after(async () => {
  await proxy?.close();
  await net?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Sends raw bytes to the session socket; resolves with everything it answered until it closed. */
function raw(text: string | Buffer): Promise<string> {
  return new Promise((resolve) => {
    const s = netConnect(session.socketPath);
    let out = "";
    s.on("data", (b: Buffer) => (out += b.toString("latin1")));
    s.on("error", () => undefined);
    s.on("close", () => resolve(out));
    // Every request here makes the proxy close the connection (Connection: close, or a refusal).
    s.write(text);
  });
}

/** CONNECT host:port through the session; resolves with the open tunnel or the refusal text. */
function connectTunnel(authority: string): Promise<{ socket: Socket } | { refused: string }> {
  return new Promise((resolve) => {
    const s = netConnect(session.socketPath);
    let head = "";
    s.on("error", () => undefined);
    const onData = (b: Buffer): void => {
      head += b.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      s.off("data", onData);
      if (head.startsWith("HTTP/1.1 200")) resolve({ socket: s });
      else s.on("close", () => resolve({ refused: head })).resume();
    };
    s.on("data", onData);
    s.on("close", () => resolve({ refused: head }));
    s.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
  });
}

/** HTTPS GET / through a tunnel with the given SNI; resolves with the body or the error. */
async function httpsGet(authority: string, servername: string | undefined): Promise<string> {
  const t = await connectTunnel(authority);
  if ("refused" in t) return `refused: ${t.refused}`;
  return new Promise((resolve) => {
    const c = tlsConnect({
      socket: t.socket,
      ca: readFileSync(net.caFile),
      ...(servername !== undefined ? { servername } : {}),
      rejectUnauthorized: false,
    });
    let body = "";
    c.on("secureConnect", () =>
      c.write(`GET / HTTP/1.1\r\nHost: ${servername}\r\nConnection: close\r\n\r\n`),
    );
    c.on("data", (b: Buffer) => (body += b.toString()));
    c.on("error", (e) => resolve(`error: ${e.message}`));
    c.on("close", () => resolve(body));
  });
}

const last = (): EgressRecord => records[records.length - 1]!;

void test(
  "plain HTTP (absolute URI) to an allowed name reaches the server with the URL's Host",
  { skip },
  async () => {
    const out = await raw(
      "GET http://www.test.example/ HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
    );
    assert.match(out, /^HTTP\/1.1 200/);
    assert.match(out, /hello from www.test.example\n/);
    assert.deepEqual(last(), {
      decision: "allowed",
      method: "GET",
      target: "www.test.example:80",
      address: net.serverIp,
    });
    assert.equal(recordLine(last()), `egress: allowed GET www.test.example:80 → ${net.serverIp}`);
  },
);

void test("CONNECT to an allowed name with a matching SNI tunnels TLS", { skip }, async () => {
  const body = await httpsGet("www.test.example:443", "www.test.example");
  assert.match(body, /hello from www.test.example/);
  assert.deepEqual(last(), {
    decision: "allowed",
    method: "CONNECT",
    target: "www.test.example:443",
    address: net.serverIp,
  });
});

void test("CONNECT to an allowed IP literal without SNI is tunnelled", { skip }, async () => {
  const body = await httpsGet(`${net.serverIp}:443`, undefined);
  assert.match(body, /HTTP\/1.1 200/);
  assert.equal(last().decision, "allowed");
});

void test("refusals: each is answered and recorded with its reason", { skip }, async () => {
  const cases: Array<[string, RegExp]> = [
    ["other.test.example:443", /not on the allow-list/],
    ["www.test.example:22", /not on the allow-list/],
    ["loop.test.example:443", /resolves to a loopback address 127.0.0.1/],
    ["mixed.test.example:443", /resolves to a private address 10.0.0.5/],
    ["mapped.test.example:443", /resolves to a loopback address ::ffff:127.0.0.1/],
    ["nx.test.example:443", /does not resolve/],
    ["127.0.0.1:443", /not on the allow-list/],
    ["[::1]:443", /not on the allow-list/],
    ["bad!host.example:443", /malformed/],
  ];
  for (const [authority, why] of cases) {
    const r = await connectTunnel(authority);
    assert.ok("refused" in r, authority);
    assert.match(r.refused, /^HTTP\/1.1 (403|400)/, authority);
    assert.equal(last().decision, "refused", authority);
    assert.match(last().reason ?? "", why, authority);
  }
  const meta = await raw("GET http://meta.test.example/latest/meta-data/ HTTP/1.1\r\nHost: x\r\n\r\n");
  assert.match(meta, /^HTTP\/1.1 403/);
  assert.match(
    recordLine(last()),
    /^egress: refused GET meta.test.example:80 \(resolves to a link-local address \(cloud metadata\) 169.254.169.254\)$/,
  );
  const own = await raw(`GET http://${net.hostIp}/ HTTP/1.1\r\nHost: x\r\n\r\n`);
  assert.match(own, /^HTTP\/1.1 403/);
  assert.match(last().reason ?? "", /an address of this node/);
});

void test("a TLS ClientHello naming another host than CONNECT did is refused", { skip }, async () => {
  const body = await httpsGet("front.test.example:443", "other.test.example");
  assert.doesNotMatch(body, /hello from/);
  assert.equal(last().decision, "refused");
  assert.match(last().reason ?? "", /TLS server name other.test.example does not match/);
  // And a hello with no server name for a name target.
  const none = await httpsGet("front.test.example:443", undefined);
  assert.doesNotMatch(none, /hello from/);
  assert.match(last().reason ?? "", /names no server/);
});

void test("garbage after CONNECT that claims to be TLS is refused; silence times out", { skip }, async () => {
  const t = await connectTunnel("www.test.example:443");
  assert.ok("socket" in t);
  const closed = new Promise((r) => t.socket.on("close", r));
  t.socket.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x04, 0x02, 0, 0, 0]));
  await closed;
  assert.match(last().reason ?? "", /bad TLS ClientHello/);
  const quiet = await connectTunnel("www.test.example:443");
  assert.ok("socket" in quiet);
  await new Promise((r) => quiet.socket.on("close", r));
  assert.match(last().reason ?? "", /sent nothing/);
});

void test(
  "malformed, https:// and oversized requests are refused; the proxy keeps serving",
  { skip },
  async () => {
    assert.match(await raw("GET / HTTP/1.1\r\nHost: www.test.example\r\n\r\n"), /^HTTP\/1.1 400/);
    assert.match(await raw("GET https://www.test.example/ HTTP/1.1\r\nHost: x\r\n\r\n"), /^HTTP\/1.1 400/);
    assert.match(
      await raw(`GET http://www.test.example/ HTTP/1.1\r\nX: ${"a".repeat(8000)}\r\n\r\n`),
      /^HTTP\/1.1 431|^$/,
    );
    assert.match(await raw("\x00\x01garbage\r\n\r\n"), /^HTTP\/1.1 400|^$/);
    const ok = await raw("GET http://www.test.example/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert.match(ok, /hello from www.test.example/);
  },
);

void test("a closed session removes its socket and refuses new connections", { skip }, async () => {
  const extra = await proxy.open(parseAllowList(["www.test.example:80"]).list, () => undefined);
  assert.ok(existsSync(extra.socketPath));
  await extra.close();
  await extra.close();
  assert.equal(existsSync(extra.socketPath), false);
  await assert.rejects(
    new Promise((resolve, reject) => netConnect(extra.socketPath).on("connect", resolve).on("error", reject)),
  );
});
