// /api/v1/repositories: register, list, show, change (clone URL, branch, polling, job limit),
// remove, set the egress allow-list, and trigger runs manually.
import type { FastifyInstance } from "fastify";
import {
  createRepository,
  deleteRepository,
  getRepository,
  listRepositories,
  setRepositoryEgress,
  updateRepository,
} from "../../orchestrator/catalog/index.js";
import { audited, withoutCredentials } from "../actor.js";
import { actorName, listScope, triggeringUserId } from "../access.js";
import type { RouteContext } from "../deps.js";
import {
  CreateRepository,
  IdParams,
  RepositoryEgress,
  TriggerRun,
  DispatchRun,
  UpdateRepository,
} from "../schemas.js";
import { validate } from "../validate.js";

export function repositoryRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.post("/repositories", async (request, reply) => {
    const { body } = validate(request, { body: CreateRepository });
    const repo = await audited(
      ctx.pool,
      request,
      // A password in the clone URL is sealed (clone-password, set by the caller), never kept in it.
      (db) => createRepository(db, body, ctx.links, ctx.kms, actorName(request)),
      (r) => ({
        action: "repository.created",
        object: { kind: "repository", id: r.id },
        // Never the webhook secret; the clone URL without credentials.
        details: {
          name: r.name,
          cloneUrl: withoutCredentials(r.cloneUrl),
          organization: body.organization ?? "default",
          visibility: r.visibility,
        },
      }),
    );
    return reply.status(201).send(repo);
  });

  app.get("/repositories", async (request) => listRepositories(ctx.pool, ctx.links, listScope(request)));

  app.get("/repositories/:id", async (request) => {
    const { params } = validate(request, { params: IdParams });
    return getRepository(ctx.pool, params.id, ctx.links);
  });

  // The webhook secret stays: the forge's webhook settings need no change.
  app.patch("/repositories/:id", async (request) => {
    const { params, body } = validate(request, { params: IdParams, body: UpdateRepository });
    const r = await audited(
      ctx.pool,
      request,
      (db) => updateRepository(db, params.id, body, ctx.links, ctx.kms, actorName(request)),
      ({ before, after, cloneCredentialSealed }) => ({
        action: "repository.changed",
        object: { kind: "repository", id: after.id },
        // What changed, old and new; clone URLs never with credentials (none are kept in them).
        details: {
          name: after.name,
          ...changed("cloneUrl", withoutCredentials(before.cloneUrl), withoutCredentials(after.cloneUrl)),
          ...changed("defaultBranch", before.defaultBranch, after.defaultBranch),
          ...changed("pollIntervalSeconds", before.pollIntervalSeconds, after.pollIntervalSeconds),
          ...changed("maxConcurrentJobs", before.maxConcurrentJobs, after.maxConcurrentJobs),
          ...changed("visibility", before.visibility, after.visibility),
          ...(cloneCredentialSealed ? { cloneCredential: "sealed from the URL" } : {}),
        },
      }),
    );
    return r.after;
  });

  app.put("/repositories/:id/egress", async (request) => {
    const { params, body } = validate(request, { params: IdParams, body: RepositoryEgress });
    return audited(
      ctx.pool,
      request,
      (db) => setRepositoryEgress(db, params.id, body.allow, ctx.links),
      (r) => ({
        action: "repository.egress_changed",
        object: { kind: "repository", id: r.id },
        details: { name: r.name, allow: r.egressAllow },
      }),
    );
  });

  app.delete("/repositories/:id", async (request, reply) => {
    const { params } = validate(request, { params: IdParams });
    await audited(
      ctx.pool,
      request,
      async (db) => {
        const repo = await getRepository(db, params.id, ctx.links);
        await deleteRepository(db, params.id);
        return repo;
      },
      (r) => ({
        action: "repository.deleted",
        object: { kind: "repository", id: r.id },
        details: { name: r.name },
      }),
    );
    return reply.status(204).send();
  });

  app.post("/repositories/:id/runs", async (request, reply) => {
    const { params, body } = validate(request, { params: IdParams, body: TriggerRun });
    const runs = await ctx.runs.trigger(params.id, {
      ...body,
      actor: actorName(request),
      triggeredByUserId: await triggeringUserId(ctx, request),
    });
    return reply.status(201).send({ runs });
  });

  // repository_dispatch (GitHub's POST /repos/{owner}/{repo}/dispatches): the default branch's
  // workflows whose `types:` take event_type; 201 with the runs (none may match).
  app.post("/repositories/:id/dispatches", async (request, reply) => {
    const { params, body } = validate(request, { params: IdParams, body: DispatchRun });
    const runs = await ctx.runs.dispatch(params.id, {
      eventType: body.event_type,
      ...(body.client_payload ? { clientPayload: body.client_payload } : {}),
      actor: actorName(request),
      triggeredByUserId: await triggeringUserId(ctx, request),
    });
    return reply.status(201).send({ runs });
  });
}

function changed<T>(field: string, before: T, after: T): Record<string, { from: T; to: T }> {
  return before === after ? {} : { [field]: { from: before, to: after } };
}
