// /api/v1/organizations: organizations group repositories under one concurrency limit (the
// scheduler never runs more of their jobs at once); "default" exists from the start.
import type { FastifyInstance } from "fastify";
import {
  createOrganization,
  deleteOrganization,
  getOrganization,
  listOrganizations,
  setOrganizationSettings,
  setOrganizationLimit,
} from "../../orchestrator/catalog/index.js";
import { audited } from "../actor.js";
import { listScope } from "../access.js";
import type { RouteContext } from "../deps.js";
import { CreateOrganization, NameParams, OrganizationLimit, OrganizationSettings } from "../schemas.js";
import { validate } from "../validate.js";

export function organizationRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get("/organizations", async (request) => listOrganizations(ctx.pool, listScope(request)));

  app.get("/organizations/:name", async (request) => {
    const { params } = validate(request, { params: NameParams });
    return getOrganization(ctx.pool, params.name);
  });

  app.put("/organizations/:name/settings", async (request) => {
    const { params, body } = validate(request, { params: NameParams, body: OrganizationSettings });
    return audited(
      ctx.pool,
      request,
      (db) => setOrganizationSettings(db, params.name, body),
      (o) => ({
        action: "organization.settings_changed",
        object: { kind: "organization", id: o.id },
        details: { name: o.name, ...body },
      }),
    );
  });

  app.post("/organizations", async (request, reply) => {
    const { body } = validate(request, { body: CreateOrganization });
    const org = await audited(
      ctx.pool,
      request,
      (db) => createOrganization(db, body),
      (o) => ({
        action: "organization.created",
        object: { kind: "organization", id: o.id },
        details: { name: o.name, maxConcurrentJobs: o.maxConcurrentJobs },
      }),
    );
    return reply.status(201).send(org);
  });

  // Server administrators only: the organization's data key is destroyed first (crypto-shredding),
  // then it and everything in it is deleted, in one audited transaction.
  app.delete("/organizations/:name", async (request, reply) => {
    const { params } = validate(request, { params: NameParams });
    await audited(
      ctx.pool,
      request,
      (db) => deleteOrganization(db, params.name),
      (o) => ({
        action: "organization.deleted",
        object: { kind: "organization", id: o.id },
        details: { name: o.name, repositories: o.repositories, keysDestroyed: o.keysDestroyed },
      }),
    );
    return reply.status(204).send();
  });

  app.put("/organizations/:name/limit", async (request) => {
    const { params, body } = validate(request, { params: NameParams, body: OrganizationLimit });
    return audited(
      ctx.pool,
      request,
      (db) => setOrganizationLimit(db, params.name, body.maxConcurrentJobs),
      (o) => ({
        action: "organization.limit_changed",
        object: { kind: "organization", id: o.id },
        details: { name: o.name, maxConcurrentJobs: o.maxConcurrentJobs },
      }),
    );
  });
}
