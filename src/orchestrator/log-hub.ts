// In-process fan-out of stored log chunks to live followers (SSE), and of job completion.
// Chunks are published after they are stored, so a follower that reads the backlog after
// subscribing never misses one (it de-duplicates by attempt and seq).
import type { LogChunk, LogHub } from "./types.js";

type Listener = (chunk: LogChunk) => void;

export class MemoryLogHub implements LogHub {
  private readonly listeners = new Map<number, Set<Listener>>();
  private readonly doneWaiters = new Map<number, Set<() => void>>();
  /** After close() no completion is reported any more: waiting would never end. */
  private closed = false;

  constructor(private readonly isDone: (jobId: number) => Promise<boolean>) {}

  subscribe(jobId: number, listener: Listener): () => void {
    let set = this.listeners.get(jobId);
    if (!set) this.listeners.set(jobId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(jobId);
    };
  }

  publish(chunk: LogChunk): void {
    for (const l of this.listeners.get(chunk.jobId) ?? []) {
      try {
        l(chunk);
      } catch {
        // a broken follower must not break log storage
      }
    }
  }

  async whenJobDone(jobId: number, signal?: AbortSignal): Promise<void> {
    if (this.closed || signal?.aborted) return;
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    let set = this.doneWaiters.get(jobId);
    if (!set) this.doneWaiters.set(jobId, (set = new Set()));
    set.add(resolveDone);
    // A follower that goes away must not leave its waiter behind until the job ends.
    signal?.addEventListener("abort", resolveDone, { once: true });
    try {
      // Registered before checking, so a completion in between is not missed.
      if (await this.isDone(jobId)) resolveDone();
      await done;
    } finally {
      signal?.removeEventListener("abort", resolveDone);
      set.delete(resolveDone);
      if (set.size === 0 && this.doneWaiters.get(jobId) === set) this.doneWaiters.delete(jobId);
    }
  }

  jobDone(jobId: number): void {
    for (const r of this.doneWaiters.get(jobId) ?? []) r();
  }

  /** Wakes every waiter (shutdown). */
  close(): void {
    this.closed = true;
    for (const set of this.doneWaiters.values()) for (const r of set) r();
    this.doneWaiters.clear();
    this.listeners.clear();
  }
}
