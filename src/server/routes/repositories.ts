// /api/v1/repositories: register, list, show, remove, set the egress allow-list, and trigger
// runs manually.
import type { FastifyInstance } from "fastify";
import {
  createRepository,
  deleteRepository,
  getRepository,
  listRepositories,
  setRepositoryEgress,
} from "../../orchestrator/catalog/index.js";
import type { RouteContext } from "../deps.js";
import { CreateRepository, IdParams, RepositoryEgress, TriggerRun } from "../schemas.js";
import { validate } from "../validate.js";

export function repositoryRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.post("/repositories", async (request, reply) => {
    const { body } = validate(request, { body: CreateRepository });
    return reply.status(201).send(await createRepository(ctx.pool, body, ctx.links));
  });

  app.get("/repositories", async () => listRepositories(ctx.pool, ctx.links));

  app.get("/repositories/:id", async (request) => {
    const { params } = validate(request, { params: IdParams });
    return getRepository(ctx.pool, params.id, ctx.links);
  });

  app.put("/repositories/:id/egress", async (request) => {
    const { params, body } = validate(request, { params: IdParams, body: RepositoryEgress });
    return setRepositoryEgress(ctx.pool, params.id, body.allow, ctx.links);
  });

  app.delete("/repositories/:id", async (request, reply) => {
    const { params } = validate(request, { params: IdParams });
    await deleteRepository(ctx.pool, params.id);
    return reply.status(204).send();
  });

  app.post("/repositories/:id/runs", async (request, reply) => {
    const { params, body } = validate(request, { params: IdParams, body: TriggerRun });
    const runs = await ctx.runs.trigger(params.id, { ...body, actor: "admin" });
    return reply.status(201).send({ runs });
  });
}
