// /api/v1/runs and /api/v1/jobs: list and show runs, cancel and rerun, show jobs, download logs.
// The live log stream is in ../sse.ts.
import { Readable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { allLogChunks, getJob, getRun, listRuns } from "../../orchestrator/views/index.js";
import { listScope } from "../access.js";
import type { RouteContext } from "../deps.js";
import { IdParams, LogsQuery, RunsQuery } from "../schemas.js";
import { validate } from "../validate.js";

export function runRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get("/runs", async (request) => {
    const { query } = validate(request, { query: RunsQuery });
    return listRuns(
      ctx.pool,
      {
        repositoryId: query.repository,
        state: query.state,
        before: query.before,
        limit: query.limit,
        scope: listScope(request),
      },
      ctx.links,
    );
  });

  app.get("/runs/:id", async (request) => {
    const { params } = validate(request, { params: IdParams });
    return getRun(ctx.pool, params.id, ctx.links);
  });

  app.post("/runs/:id/cancel", async (request, reply) => {
    const { params } = validate(request, { params: IdParams });
    await ctx.runs.cancel(params.id);
    return reply.status(202).send({ ok: true });
  });

  app.post("/runs/:id/rerun", async (request, reply) => {
    const { params } = validate(request, { params: IdParams });
    return reply.status(201).send(await ctx.runs.rerun(params.id));
  });

  app.get("/jobs/:id", async (request) => {
    const { params } = validate(request, { params: IdParams });
    return getJob(ctx.pool, params.id, ctx.links);
  });

  app.get("/jobs/:id/logs", async (request, reply) => {
    const { params, query } = validate(request, { params: IdParams, query: LogsQuery });
    const job = await getJob(ctx.pool, params.id, ctx.links); // 404 before any byte is sent
    void reply.header("content-type", "text/plain; charset=utf-8");
    if (query.download === "1" || query.download === "true")
      void reply.header("content-disposition", `attachment; filename="job-${job.id}.log"`);
    // Streamed page by page: a capped log is still up to 50 MiB.
    async function* text(): AsyncGenerator<string> {
      for await (const chunk of allLogChunks(ctx.pool, job.id)) yield chunk.data;
    }
    return reply.send(Readable.from(text()));
  });
}
