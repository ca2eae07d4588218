// Follows a job's log over the SSE endpoint: every chunk exactly once, in order, until
// `event: end`. A dropped connection is resumed with Last-Event-ID ("<attempt>:<seq>"); chunks
// at or before the last one seen are skipped, so a server that resends never duplicates output.
// `event: wait` says why a queued job waits (reported through onWait).
import { AirlockError, ErrorCode, isAirlockError } from "../../errors/index.js";
import type { ApiClient } from "./client.js";
import { parseSse } from "./sse.js";
import type { LogStreamChunk, LogStreamEnd } from "./types.js";

export interface FollowOptions {
  onChunk(chunk: LogStreamChunk): void;
  /** Why the job waits (while it is queued): at once, and again whenever that changes. */
  onWait?(reason: string): void;
  /** Called before each reconnection (after a dropped stream), with the id resumed from. */
  onReconnect?(lastEventId: string | undefined): void;
  signal?: AbortSignal;
  /** Pause before reconnecting; doubles per failure without progress, up to 5 s. */
  reconnectDelayMs?: number;
  /** Reconnections in a row without a new chunk before giving up. */
  maxReconnects?: number;
}

export interface FollowResult {
  conclusion: string | null;
  chunks: number;
}

const after = (a: LogStreamChunk, last: { attempt: number; seq: number } | undefined): boolean =>
  !last || a.attempt > last.attempt || (a.attempt === last.attempt && a.seq > last.seq);

function parseJson(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    throw new AirlockError(ErrorCode.API_FAILED, `log stream: not JSON: ${data.slice(0, 100)}`);
  }
}

function parseChunk(data: string): LogStreamChunk {
  const c = parseJson(data) as Partial<LogStreamChunk>;
  if (typeof c.attempt !== "number" || typeof c.seq !== "number" || typeof c.data !== "string") {
    throw new AirlockError(ErrorCode.API_FAILED, `log stream: malformed chunk ${data.slice(0, 100)}`);
  }
  return c as LogStreamChunk;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });

export async function followLog(client: ApiClient, jobId: number, o: FollowOptions): Promise<FollowResult> {
  const baseDelay = o.reconnectDelayMs ?? 250;
  const maxReconnects = o.maxReconnects ?? 20;
  let last: { attempt: number; seq: number } | undefined;
  let lastEventId: string | undefined;
  let chunks = 0;
  let failures = 0;
  for (;;) {
    if (o.signal?.aborted) return { conclusion: null, chunks };
    let progressed = false;
    let lastError: unknown;
    try {
      const res = await client.openLogStream(jobId, lastEventId, o.signal);
      if (!res.body) throw new AirlockError(ErrorCode.API_FAILED, "log stream: empty response");
      for await (const ev of parseSse(res.body)) {
        if (ev.event === "end") {
          const end = parseJson(ev.data || "{}") as Partial<LogStreamEnd>;
          return { conclusion: end.conclusion ?? null, chunks };
        }
        if (ev.event === "wait") {
          const w = parseJson(ev.data || "{}") as { reason?: unknown };
          if (typeof w.reason === "string") o.onWait?.(w.reason);
          continue;
        }
        if (ev.event !== "log") continue;
        const chunk = parseChunk(ev.data);
        if (!after(chunk, last)) continue;
        last = { attempt: chunk.attempt, seq: chunk.seq };
        lastEventId = ev.id ?? `${chunk.attempt}:${chunk.seq}`;
        chunks += 1;
        progressed = true;
        o.onChunk(chunk);
      }
    } catch (err) {
      if (o.signal?.aborted) return { conclusion: null, chunks };
      // API answers (401, 404, bad chunks) will not change by retrying; lost connections may.
      if (isAirlockError(err) && err.code !== ErrorCode.SERVER_UNREACHABLE) throw err;
      lastError = err;
    }
    failures = progressed ? 0 : failures + 1;
    if (failures > maxReconnects) {
      throw isAirlockError(lastError)
        ? lastError
        : new AirlockError(
            ErrorCode.SERVER_UNREACHABLE,
            `log stream of job ${jobId} kept dropping (${failures} times without new output)`,
            { cause: lastError },
          );
    }
    o.onReconnect?.(lastEventId);
    await sleep(Math.min(baseDelay * 2 ** Math.max(0, failures - 1), 5000), o.signal);
  }
}
