// /api/v1/images and /api/v1/flavours: the machine templates and sizes jobs are placed with.
import type { FastifyInstance } from "fastify";
import { createFlavour, createImage, listFlavours, listImages } from "../../orchestrator/catalog/index.js";
import { audited } from "../actor.js";
import type { RouteContext } from "../deps.js";
import { CreateFlavour, CreateImage } from "../schemas.js";
import { validate } from "../validate.js";

export function catalogRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get("/images", async () => listImages(ctx.pool));

  app.post("/images", async (request, reply) => {
    const { body } = validate(request, { body: CreateImage });
    const image = await audited(
      ctx.pool,
      request,
      (db) => createImage(db, body),
      (i) => ({ action: "image.created", object: { kind: "image", id: i.id }, details: { ...body } }),
    );
    return reply.status(201).send(image);
  });

  app.get("/flavours", async () => listFlavours(ctx.pool));

  app.post("/flavours", async (request, reply) => {
    const { body } = validate(request, { body: CreateFlavour });
    const flavour = await audited(
      ctx.pool,
      request,
      (db) => createFlavour(db, body),
      (f) => ({ action: "flavour.created", object: { kind: "flavour", id: f.id }, details: { ...body } }),
    );
    return reply.status(201).send(flavour);
  });
}
