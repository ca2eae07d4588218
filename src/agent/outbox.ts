// The agent's outbox: the unacked output of every job attempt (running, finished but not yet
// acknowledged, or left on disk by an earlier agent process), bounded, and resent after reconnects.
//
// Bound: the unacked bytes of all job attempts together stay under `maxBytes`. Past it, log lines are
// dropped (counted, taking no seq, so seqs stay gap-free) and ONE marker log line saying how many were
// dropped is queued before the next entry that fits or that must not be dropped (step events,
// annotations, finished: these always go in, even past the bound).
//
// Flow control: entries are not written to the socket as they come. At most WINDOW_MESSAGES /
// WINDOW_BYTES of them are in flight (sent, not yet acked), taken round-robin from the job
// attempts, so the orchestrator never has more than a window of one node's output queued ahead of
// that node's next heartbeat, and a job that floods its log gets its share, not the whole
// connection. While connected, a job whose unsent output passes JOB_HIGH_WATER is `blocked()`:
// the runner pauses that job's output pipes until the backlog drains (backpressure on the job,
// not on the agent). While disconnected nothing blocks; the bound above applies.
import { OutboxFile, loadOutboxFiles, newOutboxFile, outboxKey, type OutboxPayload } from "./outbox-file.js";

export interface OutboxOptions {
  dataDir: string;
  maxBytes: number;
  /** Whether the job attempt is still running on this agent (leftovers are removed once acked). */
  isRunning(key: string): boolean;
  /** Whether the socket takes more now (e.g. its buffered amount is low); default always. */
  writable?(): boolean;
}

/** Flow-control window: sent and not yet acked, over all job attempts. */
export const WINDOW_MESSAGES = 256;
export const WINDOW_BYTES = 1024 * 1024;
/** Unsent output of one job attempt above which its output pipes are paused. */
export const JOB_HIGH_WATER = 256 * 1024;

export class Outbox {
  private readonly files = new Map<string, OutboxFile>();
  private bytes = 0;
  /** Set between `welcome` and the connection's end: where live and resent messages go. */
  private sender: ((line: string) => void) | undefined;
  private readonly waiters = new Map<string, Array<() => void>>();
  /** Waiting for the outbox to hold nothing (a graceful stop waits for its jobs' output to be acked). */
  private emptyWaiters: Array<() => void> = [];

  constructor(private readonly o: OutboxOptions) {}

  /** Loads the files an earlier agent process left; returns their keys. */
  loadLeftovers(): string[] {
    for (const f of loadOutboxFiles(this.o.dataDir)) {
      this.files.set(f.key, f);
      this.bytes += f.pendingBytes();
    }
    return [...this.files.keys()];
  }

  has(jobId: number, attempt: number): boolean {
    return this.files.has(outboxKey(jobId, attempt));
  }

  /** True when the job attempt's `finished` is in the outbox (sent or not). */
  isFinished(jobId: number, attempt: number): boolean {
    return this.files.get(outboxKey(jobId, attempt))?.finished === true;
  }

  totalBytes(): number {
    return this.bytes;
  }

  push(jobId: number, attempt: number, payload: OutboxPayload): void {
    const key = outboxKey(jobId, attempt);
    let file = this.files.get(key);
    if (!file) this.files.set(key, (file = newOutboxFile(this.o.dataDir, jobId, attempt)));
    const isLog = payload.type === "event" && payload.event.type === "log";
    if (isLog && this.bytes + JSON.stringify(payload.event).length + 80 > this.o.maxBytes) {
      file.noteDropped(payload.event.step);
      return;
    }
    // The marker goes in once the outbox has room again, or at the latest before `finished`; step
    // events in between do not end the dropping (they free nothing).
    const marker = isLog || payload.type === "finished" ? file.takeMarker() : undefined;
    if (marker) this.add(file, marker);
    this.add(file, payload);
  }

  private add(file: OutboxFile, payload: OutboxPayload): void {
    const entry = file.append(payload);
    this.bytes += entry.bytes;
    this.flush();
  }

  ack(jobId: number, attempt: number, seq: number): void {
    const file = this.files.get(outboxKey(jobId, attempt));
    if (!file) return;
    this.ackFile(file, seq);
    this.flush();
  }

  private ackFile(file: OutboxFile, seq: number): void {
    this.bytes -= file.ack(seq);
    if (file.ackedSeq >= file.lastSeq && (file.finished || !this.o.isRunning(file.key))) this.remove(file);
  }

  private windowOpen(): boolean {
    let bytes = 0;
    let count = 0;
    for (const f of this.files.values()) {
      bytes += f.inflightBytes;
      count += f.inflightCount;
    }
    return count < WINDOW_MESSAGES && bytes < WINDOW_BYTES && (this.o.writable?.() ?? true);
  }

  /**
   * Sends what the window allows, one entry per job attempt in turn; then wakes jobs whose backlog
   * drained. Called on every push and ack, and by the agent when the socket drained.
   */
  flush(): void {
    const sender = this.sender;
    if (sender) {
      let progress = true;
      while (progress && this.windowOpen()) {
        progress = false;
        for (const file of this.files.values()) {
          const e = file.nextUnsent();
          if (!e) continue;
          sender(e.line);
          file.markSent(e);
          progress = true;
          if (!this.windowOpen()) break;
        }
      }
    }
    this.wake();
  }

  /** True while connected and the job attempt's unsent output is above the high-water mark. */
  blocked(jobId: number, attempt: number): boolean {
    if (!this.sender) return false;
    const file = this.files.get(outboxKey(jobId, attempt));
    return file !== undefined && file.unsentBytes() > JOB_HIGH_WATER;
  }

  /** Resolves once blocked() is false (backlog drained, disconnected, or the outbox forgot the job). */
  whenUnblocked(jobId: number, attempt: number): Promise<void> {
    if (!this.blocked(jobId, attempt)) return Promise.resolve();
    const key = outboxKey(jobId, attempt);
    return new Promise((resolve) => {
      const list = this.waiters.get(key) ?? [];
      list.push(resolve);
      this.waiters.set(key, list);
    });
  }

  private wake(): void {
    if (this.waiters.size === 0) return;
    for (const [key, list] of [...this.waiters]) {
      const file = this.files.get(key);
      if (this.sender && file && file.unsentBytes() > JOB_HIGH_WATER / 2) continue;
      this.waiters.delete(key);
      for (const resolve of list) resolve();
    }
  }

  /** Forgets a job attempt's output (the orchestrator abandoned it). */
  drop(jobId: number, attempt: number): void {
    const file = this.files.get(outboxKey(jobId, attempt));
    if (file) this.remove(file);
  }

  private remove(file: OutboxFile): void {
    this.bytes -= file.pendingBytes();
    file.remove();
    this.files.delete(file.key);
    this.wake();
    if (this.files.size === 0) {
      const waiting = this.emptyWaiters;
      this.emptyWaiters = [];
      for (const resolve of waiting) resolve();
    }
  }

  /** Resolves once every job attempt's output was acknowledged (or dropped) and removed. */
  whenEmpty(): Promise<void> {
    if (this.files.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.emptyWaiters.push(resolve));
  }

  /**
   * A new connection was welcomed: `stored` counts as acked; everything after it (or after the last
   * ack, whichever is later) is sent again, in order, then output continues live.
   */
  connected(sender: (line: string) => void, stored: ReadonlyMap<string, number>): void {
    this.sender = sender;
    for (const file of [...this.files.values()]) {
      file.resetSent();
      const seq = stored.get(file.key);
      if (seq !== undefined) this.ackFile(file, seq);
    }
    this.flush();
  }

  disconnected(): void {
    this.sender = undefined;
    this.wake();
  }

  /** Closes file descriptors; unacked output stays on disk for the next agent process. */
  close(): void {
    this.sender = undefined;
    this.wake();
    for (const f of this.files.values()) f.close();
  }
}
