// The host end of a VM's virtio-serial channel (vm/channel.ts) against a forged guest: the guest is
// the job's machine, so a job that becomes root inside it can write any bytes to the port. Nothing
// it sends may crash the agent or make it buffer without bound: a bad frame ends that machine only.
import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { GuestChannel, MAX_UNACKED, T, WINDOW } from "../../src/provisioners/vm/channel.js";

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
function pair(): Promise<{ chan: GuestChannel; guest: net.Socket; hostClosed: Promise<void> }> {
  return pairWith([undefined, undefined]);
}

async function pairWith(
  targets: (string | undefined)[],
): Promise<{ chan: GuestChannel; guest: net.Socket; hostClosed: Promise<void> }> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  const accepted = new Promise<net.Socket>((r) => server.once("connection", r));
  const host = net.createConnection(port, "127.0.0.1");
  const guest = await accepted;
  server.close();
  guest.on("data", () => undefined);
  const hostClosed = new Promise<void>((r) => host.once("close", () => r()));
  return { chan: new GuestChannel(host, targets), guest, hostClosed };
}

void test(
  "an oversized frame header ends the machine's channel instead of being buffered",
  { timeout: 60_000 },
  async () => {
    const { chan, guest, hostClosed } = await pair();
    const running = chan.start(["x"]).exec;
    guest.write(frame(T.OUT, 1, Buffer.alloc(0), 0xffff_fff0));
    await hostClosed;
    assert.deepEqual(await running.result, { exitCode: null, signal: "SIGKILL" });
    guest.destroy();
  },
);

void test(
  "an empty CONN_OPEN does not throw in the agent; the channel goes on",
  { timeout: 60_000 },
  async () => {
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
  },
);

/**
 * Most the agent holds for a stalled channel: the unacknowledged window, plus what the consumer's
 * stream accepted (and was acknowledged) before it said "full": under its 16 KiB buffer, plus one frame.
 */
const HELD_MAX = WINDOW + 2 * 65536;

/**
 * An honest guest's sending side: sends `total` bytes on `chan` in 64 KiB frames, never more than
 * WINDOW unacknowledged. `stalled` resolves each time it has to wait for an ACK.
 */
function windowedSender(guest: net.Socket, type: number, chan: number) {
  let unacked = 0;
  let wake: (() => void) | undefined;
  let buf = Buffer.alloc(0);
  guest.on("data", (b: Buffer) => {
    buf = Buffer.concat([buf, b]);
    while (buf.length >= 9 && buf.length >= 9 + buf.readUInt32LE(0)) {
      const [len, t, c] = [buf.readUInt32LE(0), buf.readUInt8(4), buf.readUInt32LE(5)];
      if (t === T.ACK && c === chan) unacked -= buf.readUInt32LE(9);
      buf = buf.subarray(9 + len);
      wake?.();
    }
  });
  let onStall: (() => void) | undefined;
  return {
    blocked: () => unacked >= WINDOW,
    stalled: () => new Promise<void>((r) => (onStall = r)),
    async send(total: number): Promise<void> {
      const part = Buffer.alloc(65536, 0x61);
      for (let sent = 0; sent < total;) {
        while (unacked >= WINDOW) {
          onStall?.();
          onStall = undefined;
          await new Promise<void>((r) => (wake = r));
        }
        // Like airlock-guest: never past the window.
        const n = Math.min(part.length, WINDOW - unacked, total - sent);
        unacked += n;
        sent += n;
        if (!guest.write(frame(type, chan, part.subarray(0, n))))
          await new Promise((r) => guest.once("drain", r));
      }
    },
  };
}

/**
 * Resolves once the sender is blocked on its window with everything settled: the agent has read
 * every frame it sent (a later EXIT has reached it) and the guest every ACK the agent sent (a
 * later EXEC has reached the guest). Fails if the sender finishes without ever blocking.
 */
async function settledStall(
  chan: GuestChannel,
  guest: net.Socket,
  sender: ReturnType<typeof windowedSender>,
  sending: Promise<void>,
): Promise<void> {
  for (;;) {
    const r = await Promise.race([sender.stalled().then(() => "stalled" as const), sending]);
    assert.equal(r, "stalled", "the guest was never held back");
    const { chan: k, exec } = chan.start(["sync"]);
    guest.write(frame(T.EXIT, k, Buffer.from("e0")));
    await exec.result;
    const next = chan.start(["sync"]);
    await sentToGuest(guest, T.EXEC, next.chan);
    guest.write(frame(T.EXIT, next.chan, Buffer.from("e0")));
    await next.exec.result;
    if (sender.blocked()) return;
  }
}

void test(
  "a step whose output is not read stops in the guest; the agent holds at most a window",
  { timeout: 60_000 },
  async () => {
    const { chan, guest } = await pair();
    const slow = chan.start(["x"]).exec; // nobody reads its stdout yet
    const other = chan.start(["y"]).exec;
    const sender = windowedSender(guest, T.OUT, 1);
    const total = 8 << 20;
    const sending = sender.send(total);
    await settledStall(chan, guest, sender, sending);
    // Another channel is not held up by the stalled one.
    guest.write(frame(T.OUT, 2, Buffer.from("hi")));
    guest.write(frame(T.EXIT, 2, Buffer.from("e0")));
    assert.deepEqual(await other.result, { exitCode: 0, signal: null });
    const held = chan.bufferedBytes();
    assert.ok(held >= WINDOW / 2 && held <= HELD_MAX, `agent holds ${held} bytes`);
    // The consumer reads: the rest flows, and the agent's figure never grows past the window.
    let got = 0;
    let most = 0;
    slow.stdout.on("data", (b: Buffer) => {
      got += b.length;
      most = Math.max(most, chan.bufferedBytes());
    });
    await sending;
    guest.write(frame(T.EXIT, 1, Buffer.from("e0")));
    assert.deepEqual(await slow.result, { exitCode: 0, signal: null });
    assert.equal(got, total);
    assert.ok(most <= HELD_MAX, `agent held up to ${most} bytes`);
    chan.close();
    guest.destroy();
  },
);

void test(
  "a guest that ignores the window ends its channel instead of being buffered",
  { timeout: 60_000 },
  async () => {
    const { chan, guest, hostClosed } = await pair();
    const running = chan.start(["x"]).exec;
    const part = Buffer.alloc(65536, 0x62);
    let most = 0;
    for (let sent = 0; sent < MAX_UNACKED + 4 * part.length && !guest.destroyed; sent += part.length) {
      if (!guest.write(frame(T.OUT, 1, part)))
        await Promise.race([once(guest, "drain"), once(guest, "close")]);
      most = Math.max(most, chan.bufferedBytes());
    }
    await hostClosed;
    assert.deepEqual(await running.result, { exitCode: null, signal: "SIGKILL" });
    assert.ok(most <= MAX_UNACKED + 65536 + 9, `agent held up to ${most} bytes`);
    guest.destroy();
  },
);

void test(
  "a relayed connection whose peer does not read stops the guest's side of it",
  { timeout: 60_000 },
  async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "airlock-chan-"));
    const target = path.join(dir, "slow.sock");
    const peers: net.Socket[] = [];
    const server = net.createServer((s) => {
      peers.push(s);
      s.pause(); // a peer that takes nothing
    });
    await new Promise<void>((r) => server.listen(target, r));
    const { chan, guest } = await pairWith([target, undefined]);
    const conn = 0x8000_0000;
    guest.write(frame(T.CONN_OPEN, conn, Buffer.from([0])));
    const sender = windowedSender(guest, T.CONN_DATA, conn);
    const sending = sender.send(64 << 20);
    sending.catch(() => undefined);
    await settledStall(chan, guest, sender, sending);
    const held = chan.bufferedBytes();
    assert.ok(held <= HELD_MAX, `agent holds ${held} bytes for the connection`);
    chan.close();
    guest.destroy();
    for (const p of peers) p.destroy();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  },
);
