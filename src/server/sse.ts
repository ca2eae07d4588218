// GET /api/v1/jobs/:id/logs/stream — a job's log as Server-Sent Events:
//   event: log, id: "<attempt>:<seq>", data: {attempt, seq, data, source}  for each stored chunk, then
//     live ones (source: "system" for Airlock's own lines, "step" for what the job wrote);
//     Each log event also has `time` (ISO 8601 UTC): when its lines were written, and `style`: the
//     style of its lines (step, group, group-end, log, debug, error, warning, notice, ok, bad, skip;
//     null for none), as GET /jobs/:id/log-chunks gives it;
//   event: wait, data: {reason}       while the job is queued: why it waits (no node with its labels,
//     an environment review, ...), sent at once and again whenever the reason changes;
//   event: end, data: {conclusion}                                 once the job is completed.
// A job a "re-run failed jobs" attempt reused streams the log of the job whose result it keeps.
// No chunk is lost between the backlog and the live feed: we subscribe FIRST and buffer live
// chunks while the backlog is read, then send the buffer skipping anything at or before the last
// position sent (chunks of a job are stored in (attempt, seq) order, so position order is enough
// to de-duplicate). Last-Event-ID resumes after the given position. A comment line every
// sseHeartbeatMs keeps idle proxies from closing the stream; a client disconnect unsubscribes.
import type { FastifyInstance } from "fastify";
import type { LogChunk } from "../orchestrator/types.js";
import {
  allLogChunks,
  comparePositions,
  getJob,
  jobStatus,
  logJobOf,
  type LogPosition,
} from "../orchestrator/views/index.js";
import { stillAllowed } from "./access.js";
import type { RouteContext } from "./deps.js";
import { IdParams, LogStreamQuery } from "./schemas.js";
import { validate } from "./validate.js";

function parseLastEventId(v: unknown): LogPosition | undefined {
  if (typeof v !== "string") return undefined;
  const m = /^(\d+):(\d+)$/.exec(v.trim());
  return m ? { attempt: Number(m[1]), seq: Number(m[2]) } : undefined;
}

export function logStreamRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get("/jobs/:id/logs/stream", async (request, reply) => {
    const { params, query } = validate(request, { params: IdParams, query: LogStreamQuery });
    await getJob(ctx.pool, params.id, ctx.links); // 404 as a normal JSON error, before the stream starts
    const jobId = await logJobOf(ctx.pool, params.id);

    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });

    let closed = false;
    // A reconnect's Last-Event-ID, else ?after= (a page that read the stored log first: an
    // EventSource cannot send the header on its first connection).
    let last = parseLastEventId(request.headers["last-event-id"]) ?? parseLastEventId(query.after);
    let pending: LogChunk[] | undefined = []; // live chunks that arrive while the backlog is sent
    const send = (chunk: LogChunk): void => {
      if (closed || (last && comparePositions(chunk, last) <= 0)) return;
      last = { attempt: chunk.attempt, seq: chunk.seq };
      const data = JSON.stringify({
        attempt: chunk.attempt,
        seq: chunk.seq,
        data: chunk.data,
        source: chunk.source,
        style: chunk.style ?? null,
        ...(chunk.time ? { time: chunk.time } : {}),
      });
      res.write(`event: log\nid: ${chunk.attempt}:${chunk.seq}\ndata: ${data}\n\n`);
    };
    // Why the job waits, whenever that changes while it is queued (checked every second: a wait
    // reason is set by the dispatcher and the environment gate, possibly in another process).
    let reason: string | null = null;
    const sendWait = async (): Promise<void> => {
      const s = await jobStatus(ctx.pool, jobId);
      const now = s?.state === "queued" ? (s.waitReason ?? "waiting for a node") : null;
      if (closed || now === null || now === reason) return;
      reason = now;
      res.write(`event: wait\ndata: ${JSON.stringify({ reason: now })}\n\n`);
    };
    let polling = false;
    const waitPoll = setInterval(() => {
      if (closed || polling) return;
      polling = true;
      sendWait()
        .catch((err: unknown) => request.log.warn({ err, jobId }, "wait reason not read"))
        .finally(() => (polling = false));
    }, 1000);
    waitPoll.unref();
    const unsubscribe = ctx.logs.subscribe(jobId, (chunk) => (pending ? pending.push(chunk) : send(chunk)));
    // Each heartbeat also asks whether the caller may still read the log (a revoked token, an
    // ended session, a disabled user or a role taken away ends the stream).
    let checking = false;
    const heartbeat = setInterval(() => {
      if (closed) return;
      res.write(": keep-alive\n\n");
      if (checking) return;
      checking = true;
      void stillAllowed(ctx, request).then((ok) => {
        checking = false;
        if (!ok) close();
      });
    }, ctx.config.sseHeartbeatMs);
    heartbeat.unref();
    const gone = new AbortController();
    const close = (): void => {
      if (closed) return;
      closed = true;
      gone.abort();
      clearInterval(heartbeat);
      clearInterval(waitPoll);
      unsubscribe();
      res.end();
    };
    request.raw.on("close", close);
    res.on("close", close);

    try {
      await sendWait();
      for await (const chunk of allLogChunks(ctx.pool, jobId, last)) {
        if (closed) return;
        send(chunk);
      }
      const buffered = pending;
      pending = undefined;
      for (const chunk of buffered) send(chunk);
      await ctx.logs.whenJobDone(jobId, gone.signal);
      if (closed) return;
      // Anything stored but not yet seen live (e.g. by another orchestrator process) comes last.
      for await (const chunk of allLogChunks(ctx.pool, jobId, last)) send(chunk);
      const status = await jobStatus(ctx.pool, jobId);
      if (!closed)
        res.write(`event: end\ndata: ${JSON.stringify({ conclusion: status?.conclusion ?? null })}\n\n`);
    } catch (err) {
      request.log.error({ err, jobId }, "log stream failed");
    } finally {
      close();
    }
  });
}
