// /api/v1/nodes: register a node (its agent token is shown once), list, drain/enable, remove.
import type { FastifyInstance } from "fastify";
import { appendAudit } from "../../audit/index.js";
import { deleteNode, getNode, listNodes, setNodeEnabled } from "../../orchestrator/catalog/index.js";
import { registerNode } from "../../orchestrator/tokens/index.js";
import { audited, requestActor } from "../actor.js";
import type { RouteContext } from "../deps.js";
import { CreateNode, IdParams } from "../schemas.js";
import { validate } from "../validate.js";

export function nodeRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get("/nodes", async () => listNodes(ctx.pool));

  app.post("/nodes", async (request, reply) => {
    const { body } = validate(request, { body: CreateNode });
    const registered = await registerNode(ctx.pool, body);
    // registerNode runs its own transaction: the entry follows it (never with the token).
    const { node } = registered;
    await appendAudit(ctx.pool, {
      ...requestActor(request),
      action: "node.registered",
      object: { kind: "node", id: node.id },
      details: { name: node.name, labels: node.labels, requiredLabels: node.requiredLabels },
    });
    return reply.status(201).send(registered);
  });

  app.post("/nodes/:id/disable", async (request) => {
    const { params } = validate(request, { params: IdParams });
    return audited(
      ctx.pool,
      request,
      (db) => setNodeEnabled(db, params.id, false),
      (n) => ({ action: "node.disabled", object: { kind: "node", id: n.id }, details: { name: n.name } }),
    );
  });

  app.post("/nodes/:id/enable", async (request) => {
    const { params } = validate(request, { params: IdParams });
    return audited(
      ctx.pool,
      request,
      (db) => setNodeEnabled(db, params.id, true),
      (n) => ({ action: "node.enabled", object: { kind: "node", id: n.id }, details: { name: n.name } }),
    );
  });

  app.delete("/nodes/:id", async (request, reply) => {
    const { params } = validate(request, { params: IdParams });
    await audited(
      ctx.pool,
      request,
      async (db) => {
        const node = await getNode(db, params.id);
        await deleteNode(db, params.id);
        return node;
      },
      (n) => ({ action: "node.deleted", object: { kind: "node", id: n.id }, details: { name: n.name } }),
    );
    ctx.agents.disconnect(params.id); // its token is gone too: an open connection must not linger
    return reply.status(204).send();
  });
}
