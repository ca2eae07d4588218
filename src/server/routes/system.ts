// Unauthenticated endpoints: health, Prometheus metrics and the OpenAPI document.
import type { FastifyInstance } from "fastify";
import { databaseUp } from "../../orchestrator/views/index.js";
import type { RouteContext } from "../deps.js";
import type { Metrics } from "../metrics.js";
import { buildOpenApi } from "../openapi.js";

export function systemRoutes(app: FastifyInstance, ctx: RouteContext, metrics: Metrics): void {
  app.get("/healthz", async (_request, reply) => {
    const up = await databaseUp(ctx.pool);
    return reply.status(up ? 200 : 503).send({ ok: up, database: up ? "up" : "down" });
  });

  app.get("/metrics", async (_request, reply) => {
    const text = await metrics.render();
    return reply.header("content-type", metrics.contentType).send(text);
  });

  const document = buildOpenApi(ctx.links.publicUrl);
  app.get("/api/v1/openapi.json", (_request, reply) => reply.send(document));
}
