// /api/v1/runs and /api/v1/jobs: list and show runs, cancel and rerun, show jobs, download logs.
// The live log stream is in ../sse.ts.
import { Readable } from "node:stream";
import type { FastifyInstance } from "fastify";
import {
  allLogChunks,
  getJob,
  getRun,
  listRuns,
  logJobOf,
  timestampLines,
} from "../../orchestrator/views/index.js";
import { appendAudit } from "../../audit/index.js";
import { ROLES, roleAllows } from "../../auth/index.js";
import { ownerOfRun } from "../../orchestrator/catalog/index.js";
import { actorName, listScope, requestAccess, triggeringUserId } from "../access.js";
import { requestActor } from "../actor.js";
import type { RouteContext } from "../deps.js";
import { IdParams, LogsQuery, Rerun, RunQuery, RunsQuery } from "../schemas.js";
import { validate } from "../validate.js";

export function runRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get("/runs", async (request) => {
    const { query } = validate(request, { query: RunsQuery });
    return listRuns(
      ctx.pool,
      {
        repositoryId: query.repository,
        state: query.state,
        ...(query.status !== undefined ? { status: query.status } : {}),
        ...(query.workflow !== undefined ? { workflow: query.workflow } : {}),
        ...(query.branch !== undefined ? { branch: query.branch } : {}),
        ...(query.event !== undefined ? { event: query.event } : {}),
        ...(query.actor !== undefined ? { actor: query.actor } : {}),
        before: query.before,
        limit: query.limit,
        scope: listScope(request),
      },
      ctx.links,
    );
  });

  // A run waiting for approval says who may approve it and whether the caller may (the decision
  // POST /runs/:id/approve gets from the access hook: runs.approve on the run's repository).
  app.get("/runs/:id", async (request) => {
    const { params, query } = validate(request, { params: IdParams, query: RunQuery });
    const run = await getRun(ctx.pool, params.id, ctx.links, query.attempt);
    const waiting = run.approval === "required" && run.state !== "completed";
    const owner = waiting ? await ownerOfRun(ctx.pool, params.id) : undefined;
    const approvers = owner
      ? {
          roles: ROLES.filter((r) => roleAllows(r, "runs.approve")),
          youMay: requestAccess(request).check("runs.approve", owner).ok,
        }
      : null;
    return { ...run, approvers };
  });

  app.post("/runs/:id/cancel", async (request, reply) => {
    const { params } = validate(request, { params: IdParams });
    await ctx.runs.cancel(params.id);
    return reply.status(202).send({ ok: true });
  });

  // A new attempt of the same run (GitHub's re-run): every job, or only the failed ones.
  app.post("/runs/:id/rerun", async (request, reply) => {
    const { params, body } = validate(request, { params: IdParams, body: Rerun });
    const run = await ctx.runs.rerun(params.id, {
      failedOnly: body.failedOnly === true,
      ...(body.job !== undefined ? { job: body.job } : {}),
      actor: actorName(request),
      byUserId: await triggeringUserId(ctx, request),
    });
    return reply.status(201).send(run);
  });

  // An untrusted run waiting for approval (docs/security.md, "Trust tiers"): maintainers only, as
  // people (not service tokens); approving approves its commit.
  app.post("/runs/:id/approve", async (request) => {
    const { params } = validate(request, { params: IdParams });
    const by = actorName(request);
    const started = await ctx.runs.approve(params.id, by);
    await appendAudit(ctx.pool, {
      ...requestActor(request),
      action: "run.approved",
      object: { kind: "run", id: params.id },
      details: { started },
    });
    return { approved: true, started };
  });

  app.post("/runs/:id/reject", async (request) => {
    const { params } = validate(request, { params: IdParams });
    await ctx.runs.reject(params.id, actorName(request));
    await appendAudit(ctx.pool, {
      ...requestActor(request),
      action: "run.rejected",
      object: { kind: "run", id: params.id },
    });
    return { rejected: true };
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
    const stamped = query.timestamps === "1" || query.timestamps === "true";
    // A job a re-run reused shows the log of the job whose result it keeps.
    const logJob = await logJobOf(ctx.pool, job.id);
    // Streamed page by page: a capped log is still up to 50 MiB.
    async function* text(): AsyncGenerator<string> {
      for await (const chunk of allLogChunks(ctx.pool, logJob))
        yield stamped && chunk.time ? timestampLines(chunk.data, chunk.time) : chunk.data;
    }
    return reply.send(Readable.from(text()));
  });
}
