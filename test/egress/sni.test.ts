// The ClientHello reader, on real ClientHello bytes from node:tls, cut in every way a network
// can cut them, and on malformed input.
import assert from "node:assert/strict";
import { createServer, type AddressInfo } from "node:net";
import { connect } from "node:tls";
import { test } from "node:test";
import { readClientHello } from "../../src/egress/index.js";

/** The first bytes a real TLS client sends for `servername` (undefined: no SNI). */
async function clientHello(servername: string | undefined, host = "127.0.0.1"): Promise<Buffer> {
  const server = createServer();
  const got = new Promise<Buffer>((resolve) => {
    server.on("connection", (s) => {
      let buf = Buffer.alloc(0);
      s.on("data", (b: Buffer) => {
        buf = Buffer.concat([buf, b]);
        if (buf.length >= 5 && buf.length >= 5 + buf.readUInt16BE(3)) {
          resolve(buf);
          s.destroy();
        }
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  const c = connect({
    host,
    port,
    ...(servername !== undefined ? { servername } : {}),
    rejectUnauthorized: false,
  });
  c.on("error", () => undefined);
  const hello = await got;
  c.destroy();
  server.close();
  return hello;
}

void test("reads the server name from a real ClientHello, whole and in every split", async () => {
  const hello = await clientHello("pkg.example.org");
  assert.deepEqual(readClientHello(hello), { state: "hello", serverName: "pkg.example.org" });
  for (let i = 0; i < hello.length; i++) {
    assert.equal(readClientHello(hello.subarray(0, i)).state, "need-more", `cut at ${i}`);
  }
  // Extra bytes after the hello (a client pipelining data) do not matter.
  assert.deepEqual(readClientHello(Buffer.concat([hello, Buffer.from("xyz")])), {
    state: "hello",
    serverName: "pkg.example.org",
  });
});

void test("a ClientHello without SNI (IP literal target) has no server name", async () => {
  const hello = await clientHello(undefined);
  assert.deepEqual(readClientHello(hello), { state: "hello", serverName: undefined });
});

void test("a handshake split over several TLS records is reassembled", async () => {
  const hello = await clientHello("split.example.org");
  const body = hello.subarray(5);
  const rec = (b: Buffer) =>
    Buffer.concat([Buffer.from([0x16, 0x03, 0x01, b.length >> 8, b.length & 0xff]), b]);
  const parts = [body.subarray(0, 3), body.subarray(3, 100), body.subarray(100)];
  const resplit = Buffer.concat(parts.map(rec));
  assert.deepEqual(readClientHello(resplit), { state: "hello", serverName: "split.example.org" });
});

void test("non-TLS, malformed and oversized input", async () => {
  assert.equal(readClientHello(Buffer.from("GET / HTTP/1.1\r\n")).state, "not-tls");
  assert.equal(readClientHello(Buffer.from("SSH-2.0-OpenSSH\r\n")).state, "not-tls");
  assert.equal(readClientHello(Buffer.alloc(0)).state, "need-more");
  // A handshake record whose message is not a ClientHello.
  assert.equal(readClientHello(Buffer.from([0x16, 3, 1, 0, 4, 0x02, 0, 0, 0])).state, "invalid");
  // Length fields that point past the message.
  const hello = await clientHello("x.example.org");
  const broken = Buffer.from(hello);
  broken[5 + 4 + 2 + 32] = 0xff; // session id length far too large
  assert.equal(readClientHello(broken).state, "invalid");
  // A ClientHello that claims 1 MiB.
  assert.equal(readClientHello(Buffer.from([0x16, 3, 1, 0, 4, 0x01, 0x10, 0, 0])).state, "invalid");
  // A record of another type in the middle.
  assert.equal(
    readClientHello(Buffer.from([0x16, 3, 1, 0, 2, 0x01, 0, 0x17, 3, 3, 0, 1, 0])).state,
    "invalid",
  );
  // Garbage that starts like a handshake record.
  assert.equal(readClientHello(Buffer.from([0x16, 0x99, 0x99, 0, 1, 0])).state, "invalid");
});
