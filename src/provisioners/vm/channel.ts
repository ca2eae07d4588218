// The host end of the control port of a VM machine: frames to and from native/airlock-guest.c
// (see its header for the protocol) over the unix socket QEMU connects for the guest's
// virtio-serial port. Execs are channels the host numbers (1, 2, …); connections to the egress
// proxy / job services are channels the guest opens (numbered from 2^31), each carried to its host
// unix socket here.
import { once } from "node:events";
import net from "node:net";
import { PassThrough } from "node:stream";
import type { ExecResult } from "../types.js";

export const T = {
  EXEC: 1,
  STDIN: 2,
  STDIN_EOF: 3,
  KILL: 4,
  HELLO: 5,
  LIMITS: 6,
  CONN_DATA: 10,
  CONN_EOF: 11,
  READY: 20,
  OUT: 21,
  ERR: 22,
  EXIT: 23,
  CONN_OPEN: 24,
  LIMITS_R: 25,
} as const;
const HDR = 9;
const MAX_PAYLOAD = 65536;
/** Connections (egress, job services) one guest may hold open on the host at once. */
const MAX_CONNS = 512;

export interface GuestExec {
  stdout: PassThrough;
  stderr: PassThrough;
  result: Promise<ExecResult>;
}

interface Pending {
  stdout: PassThrough;
  stderr: PassThrough;
  resolve(r: ExecResult): void;
}

const SIGNALS: Record<number, NodeJS.Signals> = {
  1: "SIGHUP",
  2: "SIGINT",
  6: "SIGABRT",
  9: "SIGKILL",
  13: "SIGPIPE",
  15: "SIGTERM",
};

export class GuestChannel {
  private buf: Buffer = Buffer.alloc(0);
  private nextChan = 1;
  private readonly execs = new Map<number, Pending>();
  private readonly conns = new Map<number, net.Socket>();
  private readonly queries = new Map<number, (answer: string | undefined) => void>();
  private closed = false;
  /** Resolves with the guest's /proc/uptime (seconds) at its first READY. */
  readonly ready: Promise<number>;
  private onReady!: (uptime: number) => void;

  constructor(
    private readonly sock: net.Socket,
    /** Host sockets of the guest's relays: [egress proxy, job services]. */
    private readonly targets: readonly (string | undefined)[],
  ) {
    this.ready = new Promise((res) => (this.onReady = res));
    sock.on("data", (b: Buffer) => this.onData(b));
    sock.on("error", () => undefined);
    sock.on("close", () => this.close());
    this.send(T.HELLO, 0);
  }

  send(type: number, chan: number, payload: Buffer = Buffer.alloc(0)): void {
    if (this.closed) return;
    for (let off = 0; off === 0 || off < payload.length; off += MAX_PAYLOAD) {
      const part = payload.subarray(off, off + MAX_PAYLOAD);
      const h = Buffer.alloc(HDR);
      h.writeUInt32LE(part.length, 0);
      h.writeUInt8(type, 4);
      h.writeUInt32LE(chan, 5);
      this.sock.write(Buffer.concat([h, part]));
      if (payload.length === 0) break;
    }
  }

  /** send(), then waits while the socket's buffer is full (large copies). */
  async sendWait(type: number, chan: number, payload: Buffer): Promise<void> {
    this.send(type, chan, payload);
    if (this.sock.writableNeedDrain && !this.closed)
      await Promise.race([once(this.sock, "drain"), once(this.sock, "close")]);
  }

  /** The guest's limit counters ("pids N oom N free N"); undefined once the channel is closed. */
  limits(): Promise<string | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    const chan = this.nextChan++;
    const answer = new Promise<string | undefined>((res) => this.queries.set(chan, res));
    this.send(T.LIMITS, chan);
    return answer;
  }

  /** Starts `args` (mode first, see airlock-guest.c) and returns its streams; stdin is given by the caller. */
  start(args: readonly string[]): { chan: number; exec: GuestExec } {
    const chan = this.nextChan++;
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const result = new Promise<ExecResult>((resolve) => {
      this.execs.set(chan, { stdout, stderr, resolve });
    });
    const count = Buffer.alloc(4);
    count.writeUInt32LE(args.length, 0);
    this.send(T.EXEC, chan, Buffer.concat([count, ...args.map((a) => Buffer.from(`${a}\0`))]));
    if (this.closed) this.finish(chan, { exitCode: null, signal: "SIGKILL" });
    return { chan, exec: { stdout, stderr, result } };
  }

  private finish(chan: number, r: ExecResult): void {
    const p = this.execs.get(chan);
    if (!p) return;
    this.execs.delete(chan);
    p.stdout.end();
    p.stderr.end();
    p.resolve(r);
  }

  private onData(b: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, b]) : b;
    while (this.buf.length >= HDR) {
      const len = this.buf.readUInt32LE(0);
      // The guest is the job's machine: a frame no honest guest sends ends the machine, never the agent.
      if (len > MAX_PAYLOAD) return this.close();
      if (this.buf.length < HDR + len) break;
      const type = this.buf.readUInt8(4);
      const chan = this.buf.readUInt32LE(5);
      const payload = this.buf.subarray(HDR, HDR + len);
      this.buf = this.buf.subarray(HDR + len);
      try {
        this.onFrame(type, chan, payload);
      } catch {
        return this.close();
      }
      if (this.closed) return;
    }
  }

  private onFrame(type: number, chan: number, p: Buffer): void {
    switch (type) {
      case T.READY:
        this.onReady(Number.parseFloat(p.toString()) || 0);
        break;
      case T.OUT:
        this.execs.get(chan)?.stdout.write(Buffer.from(p));
        break;
      case T.ERR:
        this.execs.get(chan)?.stderr.write(Buffer.from(p));
        break;
      case T.EXIT: {
        const s = p.toString();
        const n = Number(s.slice(1));
        this.finish(
          chan,
          s.startsWith("s")
            ? { exitCode: null, signal: SIGNALS[n] ?? "SIGKILL" }
            : { exitCode: n, signal: null },
        );
        break;
      }
      case T.LIMITS_R:
        this.queries.get(chan)?.(p.toString());
        this.queries.delete(chan);
        break;
      case T.CONN_OPEN:
        if (p.length < 1 || this.conns.has(chan) || this.conns.size >= MAX_CONNS) this.send(T.CONN_EOF, chan);
        else this.openConn(chan, this.targets[p.readUInt8(0)]);
        break;
      case T.CONN_DATA:
        this.conns.get(chan)?.write(Buffer.from(p));
        break;
      case T.CONN_EOF:
        this.conns.get(chan)?.end();
        break;
    }
  }

  private openConn(chan: number, target: string | undefined): void {
    if (!target) {
      this.send(T.CONN_EOF, chan);
      return;
    }
    const c = net.createConnection(target);
    this.conns.set(chan, c);
    c.on("data", (b: Buffer) => this.send(T.CONN_DATA, chan, b));
    c.on("end", () => this.send(T.CONN_EOF, chan));
    c.on("error", () => c.destroy());
    c.on("close", (hadError) => {
      if (hadError) this.send(T.CONN_EOF, chan);
      this.conns.delete(chan);
    });
  }

  /** Ends every exec (as killed) and connection; idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const chan of [...this.execs.keys()]) this.finish(chan, { exitCode: null, signal: "SIGKILL" });
    for (const q of this.queries.values()) q(undefined);
    this.queries.clear();
    for (const c of this.conns.values()) c.destroy();
    this.conns.clear();
    this.sock.destroy();
  }
}
