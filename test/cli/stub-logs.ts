// The log half of the CLI tests' stub server: stored chunks per job, the plain-text log, and
// the SSE stream (backlog after Last-Event-ID, live chunks, `event: end`), which can be told to
// drop its first connection and to resend chunks on resume, like an at-least-once server.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { LogStreamChunk } from "../../src/cli/api/index.js";

interface JobLog {
  chunks: LogStreamChunk[];
  /** Why the job waits (queued), sent as `event: wait`. */
  wait?: string;
  conclusion: string | null;
  completed: boolean;
  followers: Set<ServerResponse>;
}

export interface StreamDrop {
  jobId: number;
  /** Events written on the first connection before it is cut. */
  afterChunks: number;
  /** "reset": the socket is destroyed; "end": the response ends without `event: end`. */
  how: "reset" | "end";
  /** On the resumed connection, also resend this many chunks before Last-Event-ID. */
  resend?: number;
}

export interface LogStore {
  drop: StreamDrop | undefined;
  appendLog(jobId: number, data: string, attempt?: number, time?: string): void;
  /** The job waits (queued) for this reason: followers get `event: wait`. */
  waitJob(jobId: number, reason: string): void;
  completeJob(jobId: number, conclusion: string): void;
  /** Resolves when the log stream of `jobId` has been opened `count` times in all. */
  streamOpened(jobId: number, count: number): Promise<void>;
  /** false when the job has no log (the caller answers 404). */
  serveLog(req: IncomingMessage, res: ServerResponse, jobId: number): boolean;
  serveStream(req: IncomingMessage, res: ServerResponse, jobId: number): boolean;
}

const event = (c: LogStreamChunk): string =>
  `id: ${c.attempt}:${c.seq}\nevent: log\ndata: ${JSON.stringify(c)}\n\n`;
const waitEvent = (reason: string): string => `event: wait\ndata: ${JSON.stringify({ reason })}\n\n`;
const endEvent = (l: JobLog): string =>
  `event: end\ndata: ${JSON.stringify({ conclusion: l.conclusion })}\n\n`;

export function createLogStore(): LogStore {
  const logs = new Map<number, JobLog>();
  const opens = new Map<number, number>();
  const waiters: { jobId: number; count: number; resolve: () => void }[] = [];
  const logOf = (jobId: number): JobLog => {
    let l = logs.get(jobId);
    if (!l) logs.set(jobId, (l = { chunks: [], conclusion: null, completed: false, followers: new Set() }));
    return l;
  };

  const store: LogStore = {
    drop: undefined,
    appendLog(jobId, data, attempt = 1, time) {
      const l = logOf(jobId);
      const c = {
        attempt,
        seq: l.chunks.filter((x) => x.attempt === attempt).length + 1,
        data,
        source: "step" as const,
        ...(time ? { time } : {}),
      };
      l.chunks.push(c);
      for (const f of l.followers) f.write(event(c));
    },
    waitJob(jobId, reason) {
      const l = logOf(jobId);
      l.wait = reason;
      for (const f of l.followers) f.write(waitEvent(reason));
    },
    completeJob(jobId, conclusion) {
      const l = logOf(jobId);
      Object.assign(l, { completed: true, conclusion });
      for (const f of l.followers) f.end(endEvent(l));
    },
    streamOpened(jobId, count) {
      if ((opens.get(jobId) ?? 0) >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ jobId, count, resolve }));
    },
    serveLog(req, res, jobId) {
      const l = logs.get(jobId);
      if (!l) return false;
      const download = new URL(req.url ?? "", "http://x").searchParams.get("download") === "1";
      res.writeHead(200, {
        "content-type": "text/plain; charset=utf-8",
        ...(download ? { "content-disposition": `attachment; filename="job-${jobId}.log"` } : {}),
      });
      res.end(l.chunks.map((c) => c.data).join(""));
      return true;
    },
    serveStream(req, res, jobId) {
      const l = logs.get(jobId);
      if (!l) return false;
      const n = (opens.get(jobId) ?? 0) + 1;
      opens.set(jobId, n);
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      const last = String(req.headers["last-event-id"] ?? "");
      const [la = 0, ls = 0] = last.split(":").map(Number);
      let from = last ? l.chunks.findIndex((c) => c.attempt > la || (c.attempt === la && c.seq > ls)) : 0;
      if (from < 0) from = l.chunks.length;
      const drop = store.drop?.jobId === jobId ? store.drop : undefined;
      if (last && drop?.resend) from = Math.max(0, from - drop.resend);
      const backlog = l.chunks.slice(from);
      if (drop && n === 1) {
        const text = backlog.slice(0, drop.afterChunks).map(event).join("");
        if (drop.how === "end") res.end(text);
        else res.write(text, () => res.socket?.destroy());
      } else {
        const wait = l.wait && !l.completed ? waitEvent(l.wait) : "";
        res.write(": hello\n\n" + wait + backlog.map(event).join(""));
        if (l.completed) res.end(endEvent(l));
        else {
          l.followers.add(res);
          res.on("close", () => l.followers.delete(res));
        }
      }
      for (const w of waiters.filter((x) => x.jobId === jobId && n >= x.count)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
      return true;
    },
  };
  return store;
}
