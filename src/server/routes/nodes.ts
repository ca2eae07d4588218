// /api/v1/nodes: register a node (its agent token is shown once), list, drain/enable, remove.
import type { FastifyInstance } from "fastify";
import { deleteNode, listNodes, setNodeEnabled } from "../../orchestrator/catalog/index.js";
import { registerNode } from "../../orchestrator/tokens/index.js";
import type { RouteContext } from "../deps.js";
import { CreateNode, IdParams } from "../schemas.js";
import { validate } from "../validate.js";

export function nodeRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get("/nodes", async () => listNodes(ctx.pool));

  app.post("/nodes", async (request, reply) => {
    const { body } = validate(request, { body: CreateNode });
    return reply.status(201).send(await registerNode(ctx.pool, body));
  });

  app.post("/nodes/:id/disable", async (request) => {
    const { params } = validate(request, { params: IdParams });
    return setNodeEnabled(ctx.pool, params.id, false);
  });

  app.post("/nodes/:id/enable", async (request) => {
    const { params } = validate(request, { params: IdParams });
    return setNodeEnabled(ctx.pool, params.id, true);
  });

  app.delete("/nodes/:id", async (request, reply) => {
    const { params } = validate(request, { params: IdParams });
    await deleteNode(ctx.pool, params.id);
    ctx.agents.disconnect(params.id); // its token is gone too: an open connection must not linger
    return reply.status(204).send();
  });
}
