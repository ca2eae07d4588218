// The host end of a VM's virtio-serial channel (vm/channel.ts) against a forged guest: the guest is
// the job's machine, so a job that becomes root inside it can write any bytes to the port. Nothing
// it sends may crash the agent or make it buffer without bound: a bad frame ends that machine only.
import assert from "node:assert/strict";
import net from "node:net";
import { test } from "node:test";
import { GuestChannel, T } from "../../src/provisioners/vm/channel.js";

function frame(type: number, chan: number, payload: Buffer = Buffer.alloc(0), len = payload.length): Buffer {
  const h = Buffer.alloc(9);
  h.writeUInt32LE(len, 0);
  h.writeUInt8(type, 4);
  h.writeUInt32LE(chan, 5);
  return Buffer.concat([h, payload]);
}

/** Resolves once the host has sent a frame of `type` on `chan` to the guest. */
function sentToGuest(guest: net.Socket, type: number, chan: number): Promise<void> {
  let buf = Buffer.alloc(0);
  return new Promise((resolve) => {
    guest.on("data", (b: Buffer) => {
      buf = Buffer.concat([buf, b]);
      while (buf.length >= 9 && buf.length >= 9 + buf.readUInt32LE(0)) {
        const [t, c] = [buf.readUInt8(4), buf.readUInt32LE(5)];
        buf = buf.subarray(9 + buf.readUInt32LE(0));
        if (t === type && c === chan) resolve();
      }
    });
  });
}

/** A channel over a socket pair; `guest` is the forged guest's end. */
async function pair(): Promise<{ chan: GuestChannel; guest: net.Socket; hostClosed: Promise<void> }> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  const accepted = new Promise<net.Socket>((r) => server.once("connection", r));
  const host = net.createConnection(port, "127.0.0.1");
  const guest = await accepted;
  server.close();
  guest.on("data", () => undefined);
  const hostClosed = new Promise<void>((r) => host.once("close", () => r()));
  return { chan: new GuestChannel(host, [undefined, undefined]), guest, hostClosed };
}

void test("an oversized frame header ends the machine's channel instead of being buffered", async () => {
  const { chan, guest, hostClosed } = await pair();
  const running = chan.start(["x"]).exec;
  guest.write(frame(T.OUT, 1, Buffer.alloc(0), 0xffff_fff0));
  await hostClosed;
  assert.deepEqual(await running.result, { exitCode: null, signal: "SIGKILL" });
  guest.destroy();
});

void test("an empty CONN_OPEN does not throw in the agent; the channel goes on", async () => {
  const { chan, guest } = await pair();
  const running = chan.start(["x"]).exec;
  const refused = sentToGuest(guest, T.CONN_EOF, 77);
  guest.write(frame(T.CONN_OPEN, 77));
  // Refused with an EOF for that connection, and the exec still completes normally.
  await refused;
  guest.write(frame(T.EXIT, 1, Buffer.from("e0")));
  assert.deepEqual(await running.result, { exitCode: 0, signal: null });
  chan.close();
  guest.destroy();
});
