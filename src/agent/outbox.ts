// The agent's outbox: the unacked output of every job attempt (running, finished but not yet
// acknowledged, or left on disk by an earlier agent process), bounded, and resent after reconnects.
//
// Bound: the unacked bytes of all job attempts together stay under `maxBytes`. Past it, log lines are
// dropped (counted, taking no seq, so seqs stay gap-free) and ONE marker log line saying how many were
// dropped is queued before the next entry that fits or that must not be dropped (step events,
// annotations, finished: these always go in, even past the bound).
import { OutboxFile, loadOutboxFiles, newOutboxFile, outboxKey, type OutboxPayload } from "./outbox-file.js";

export interface OutboxOptions {
  dataDir: string;
  maxBytes: number;
  /** Whether the job attempt is still running on this agent (leftovers are removed once acked). */
  isRunning(key: string): boolean;
}

export class Outbox {
  private readonly files = new Map<string, OutboxFile>();
  private bytes = 0;
  /** Set between `welcome` and the connection's end: where live and resent messages go. */
  private sender: ((line: string) => void) | undefined;

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
    if (this.sender && file.sentSeq === entry.seq - 1) {
      this.sender(entry.line);
      file.sentSeq = entry.seq;
    }
  }

  ack(jobId: number, attempt: number, seq: number): void {
    const file = this.files.get(outboxKey(jobId, attempt));
    if (!file) return;
    this.bytes -= file.ack(seq);
    if (file.ackedSeq >= file.lastSeq && (file.finished || !this.o.isRunning(file.key))) this.remove(file);
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
  }

  /**
   * A new connection was welcomed: `stored` counts as acked; everything after it (or after the last
   * ack, whichever is later) is sent again, in order, then output continues live.
   */
  connected(sender: (line: string) => void, stored: ReadonlyMap<string, number>): void {
    this.sender = sender;
    for (const file of [...this.files.values()]) {
      file.sentSeq = file.ackedSeq;
      const seq = stored.get(file.key);
      if (seq !== undefined) this.ack(file.jobId, file.attempt, seq);
    }
    for (const file of this.files.values()) {
      for (const e of file.unsent()) {
        this.sender(e.line);
        file.sentSeq = e.seq;
      }
    }
  }

  disconnected(): void {
    this.sender = undefined;
  }

  /** Closes file descriptors; unacked output stays on disk for the next agent process. */
  close(): void {
    this.sender = undefined;
    for (const f of this.files.values()) f.close();
  }
}
