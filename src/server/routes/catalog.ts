// /api/v1/images and /api/v1/flavours: the machine templates and sizes jobs are placed with.
import type { FastifyInstance } from "fastify";
import { createFlavour, createImage, listFlavours, listImages } from "../../orchestrator/catalog/index.js";
import type { RouteContext } from "../deps.js";
import { CreateFlavour, CreateImage } from "../schemas.js";
import { validate } from "../validate.js";

export function catalogRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get("/images", async () => listImages(ctx.pool));

  app.post("/images", async (request, reply) => {
    const { body } = validate(request, { body: CreateImage });
    return reply.status(201).send(await createImage(ctx.pool, body));
  });

  app.get("/flavours", async () => listFlavours(ctx.pool));

  app.post("/flavours", async (request, reply) => {
    const { body } = validate(request, { body: CreateFlavour });
    return reply.status(201).send(await createFlavour(ctx.pool, body));
  });
}
