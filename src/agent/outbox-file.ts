// One job attempt's outbox file, dataDir/outbox/<jobId>-<attempt>.jsonl: every `event` and `finished`
// message is appended BEFORE it is sent and kept until the orchestrator acks it. Unacked entries are
// also held in memory (the outbox is bounded), so resending never reads the disk except at start-up.
// Appends are synchronous writes to an open descriptor: ordered, and in the page cache (not fsynced)
// before the message can reach the socket.
import {
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import type { Finished, JobEventMsg } from "../protocol/agent.js";
import type { z } from "zod";

export type OutboxMessage = z.infer<typeof JobEventMsg> | z.infer<typeof Finished>;
export type OutboxPayload =
  { type: "event"; event: Record<string, unknown> } | { type: "finished"; result: Record<string, unknown> };

interface Entry {
  seq: number;
  line: string;
  bytes: number;
}

/** Unacked output of one job attempt. */
export class OutboxFile {
  /** Unacked entries are items[head..]; acked ones are cut off in batches (shift() is O(n)). */
  private items: Entry[] = [];
  private head = 0;
  private pending = 0;
  /** Highest seq handed out (acked or not). */
  lastSeq = 0;
  /** Highest seq the orchestrator has stored. */
  ackedSeq = 0;
  /** Highest seq sent on the current connection. */
  sentSeq = 0;
  /** Sent on this connection and not yet acked: the flow-control window's use. */
  inflightBytes = 0;
  inflightCount = 0;
  /** Index in items of the next entry to send (>= head). */
  private cursor = 0;
  finished = false;
  dropped = 0;
  private droppedStep: unknown;
  private fd: number | undefined;
  /** Bytes in the file that are already acked: compacted away once they dominate. */
  private garbage = 0;

  constructor(
    readonly jobId: number,
    readonly attempt: number,
    readonly path: string,
  ) {}

  get key(): string {
    return outboxKey(this.jobId, this.attempt);
  }

  /** The next entry to send on this connection, if any. */
  nextUnsent(): Entry | undefined {
    this.cursor = Math.max(this.cursor, this.head);
    while (this.cursor < this.items.length && this.items[this.cursor]!.seq <= this.sentSeq) this.cursor++;
    return this.items[this.cursor];
  }

  markSent(entry: Entry): void {
    this.sentSeq = entry.seq;
    this.inflightBytes += entry.bytes;
    this.inflightCount++;
  }

  /** A new connection: nothing is in flight, everything unacked goes again. */
  resetSent(): void {
    this.sentSeq = this.ackedSeq;
    this.inflightBytes = 0;
    this.inflightCount = 0;
    this.cursor = this.head;
  }

  /** Bytes queued and not yet sent on this connection. */
  unsentBytes(): number {
    return this.pending - this.inflightBytes;
  }

  /** Entries not yet sent on this connection, in order. */
  unsent(): Entry[] {
    const out: Entry[] = [];
    for (let i = this.head; i < this.items.length; i++)
      if (this.items[i]!.seq > this.sentSeq) out.push(this.items[i]!);
    return out;
  }

  append(payload: OutboxPayload): Entry {
    const seq = ++this.lastSeq;
    const msg: OutboxMessage = { ...payload, jobId: this.jobId, attempt: this.attempt, seq };
    const line = JSON.stringify(msg);
    const entry = { seq, line, bytes: Buffer.byteLength(line) + 1 };
    this.fd ??= openSync(this.path, "a", 0o600);
    writeSync(this.fd, `${line}\n`);
    this.items.push(entry);
    this.pending += entry.bytes;
    if (payload.type === "finished") this.finished = true;
    return entry;
  }

  /** An entry read back from the file at start-up. */
  load(entry: Entry, finished: boolean): void {
    this.items.push(entry);
    this.pending += entry.bytes;
    this.lastSeq = entry.seq;
    if (finished) this.finished = true;
  }

  /** Drops entries up to `seq`; returns the bytes freed. */
  ack(seq: number): number {
    if (seq <= this.ackedSeq) return 0;
    this.ackedSeq = Math.min(seq, this.lastSeq);
    let freed = 0;
    while (this.head < this.items.length && this.items[this.head]!.seq <= this.ackedSeq) {
      const e = this.items[this.head++]!;
      freed += e.bytes;
      if (e.seq <= this.sentSeq) {
        this.inflightBytes -= e.bytes;
        this.inflightCount--;
      }
    }
    this.sentSeq = Math.max(this.sentSeq, this.ackedSeq);
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.cursor = Math.max(0, this.cursor - this.head);
      this.head = 0;
    }
    this.pending -= freed;
    this.garbage += freed;
    if (this.garbage > 1024 * 1024 && this.garbage > this.pendingBytes()) this.compact();
    return freed;
  }

  pendingBytes(): number {
    return this.pending;
  }

  noteDropped(step: unknown): void {
    if (this.dropped === 0) this.droppedStep = step;
    this.dropped++;
  }

  /** The marker for dropped lines, once; resets the count. */
  takeMarker(): OutboxPayload | undefined {
    if (this.dropped === 0) return undefined;
    const text = `airlock: agent outbox full: ${this.dropped} lines dropped while the orchestrator was not acknowledging output`;
    const event: Record<string, unknown> = {
      type: "log",
      stream: "system",
      kind: "line",
      text,
      at: Date.now(),
    };
    if (this.droppedStep !== undefined) event.step = this.droppedStep;
    this.dropped = 0;
    this.droppedStep = undefined;
    return { type: "event", event };
  }

  /** Rewrites the file with the unacked entries only (write aside, then rename). */
  private compact(): void {
    this.close();
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, "w", 0o600);
    for (let i = this.head; i < this.items.length; i++) writeSync(fd, `${this.items[i]!.line}\n`);
    closeSync(fd);
    renameSync(tmp, this.path);
    this.garbage = 0;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  remove(): void {
    this.close();
    rmSync(this.path, { force: true });
  }
}

export function outboxKey(jobId: number, attempt: number): string {
  return `${jobId}-${attempt}`;
}

export function outboxDir(dataDir: string): string {
  return join(dataDir, "outbox");
}

export function newOutboxFile(dataDir: string, jobId: number, attempt: number): OutboxFile {
  mkdirSync(outboxDir(dataDir), { recursive: true, mode: 0o700 });
  return new OutboxFile(jobId, attempt, join(outboxDir(dataDir), `${outboxKey(jobId, attempt)}.jsonl`));
}

/**
 * Outbox files left by an earlier agent process (crash or stop). A torn last line (crash mid-write)
 * and anything unparseable is skipped: the orchestrator dedupes by seq, so a resend is always safe.
 */
export function loadOutboxFiles(dataDir: string): OutboxFile[] {
  const dir = outboxDir(dataDir);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const files: OutboxFile[] = [];
  for (const name of names) {
    const m = /^(\d+)-(\d+)\.jsonl$/.exec(name);
    if (!m) {
      if (name.endsWith(".jsonl.tmp")) rmSync(join(dir, name), { force: true });
      continue;
    }
    const file = new OutboxFile(Number(m[1]), Number(m[2]), join(dir, name));
    for (const line of readFileSync(file.path, "utf8").split("\n")) {
      const msg = parseLine(line);
      if (!msg || msg.seq <= file.lastSeq) continue;
      file.load({ seq: msg.seq, line, bytes: Buffer.byteLength(line) + 1 }, msg.type === "finished");
    }
    files.push(file);
  }
  return files.sort((a, b) => a.jobId - b.jobId || a.attempt - b.attempt);
}

function parseLine(line: string): { seq: number; type: string } | undefined {
  if (line.trim() === "") return undefined;
  try {
    const v = JSON.parse(line) as { seq?: unknown; type?: unknown };
    if (typeof v.seq !== "number" || (v.type !== "event" && v.type !== "finished")) return undefined;
    return { seq: v.seq, type: v.type };
  } catch {
    return undefined;
  }
}
