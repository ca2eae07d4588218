// Secrets and variables of an organization, a repository, or an environment of a repository:
//   …/secrets            GET: names, versions, dates and who changed them — never values
//   …/secrets/:secret    GET (the same for one), PUT { value } (write-only: 201 new, 200 next
//                        version), DELETE
//   …/variables[/:variable]  the same, values shown
// under /api/v1/organizations/:name, /api/v1/repositories/:id and
// /api/v1/repositories/:id/environments/:env. Every change is audited with the name, level and
// version, never the value; no response or error carries a value.
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { z } from "zod";
import type { AuditObject } from "../../audit/index.js";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import { ownerOfOrganization, ownerOfRepository } from "../../orchestrator/catalog/index.js";
import {
  deleteSecret,
  deleteVariable,
  environmentScope,
  getSecret,
  getVariable,
  listSecrets,
  listVariables,
  organizationScope,
  repositoryScope,
  setSecret,
  setVariable,
  type Scope,
} from "../../secrets/index.js";
import { actorName } from "../access.js";
import { audited } from "../actor.js";
import type { RouteContext } from "../deps.js";
import {
  PLACE_PARAMS,
  PLACE_PATH,
  SetSecret,
  SetVariable,
  itemParams,
  type PlaceKind,
} from "../schemas-secrets.js";
import { validate } from "../validate.js";

interface Where {
  scope: Scope;
  object: AuditObject;
  /** Where, for the audit entry. */
  details: Record<string, unknown>;
}

// The access hook resolved the object already; read it again for its ids.
async function whereOf(ctx: RouteContext, place: PlaceKind, params: Record<string, unknown>): Promise<Where> {
  if (place === "organization") {
    const name = String(params.name);
    const o = await ownerOfOrganization(ctx.pool, name);
    if (!o) throw new AirlockError(ErrorCode.NOT_FOUND, `organization ${name} not found`);
    return {
      scope: organizationScope(o.organizationId),
      object: { kind: "organization", id: o.organizationId },
      details: { organization: o.organizationName, level: "organization" },
    };
  }
  const id = Number(params.id);
  const o = await ownerOfRepository(ctx.pool, id);
  if (!o?.repositoryId) throw new AirlockError(ErrorCode.NOT_FOUND, `repository ${id} not found`);
  const scope =
    place === "environment"
      ? environmentScope(o.organizationId, o.repositoryId, String(params.env))
      : repositoryScope(o.organizationId, o.repositoryId);
  return {
    scope,
    object: { kind: "repository", id: o.repositoryId },
    details: {
      organization: o.organizationName,
      repositoryId: o.repositoryId,
      level: place,
      ...(scope.environment !== null ? { environment: scope.environment } : {}),
    },
  };
}

function placeRoutes(app: FastifyInstance, ctx: RouteContext, place: PlaceKind): void {
  const base = PLACE_PATH[place];
  const here = async (request: FastifyRequest, params: z.ZodObject = PLACE_PARAMS[place]): Promise<Where> =>
    whereOf(ctx, place, validate(request, { params }).params);
  const secretParams = itemParams(place, "secret");
  const variableParams = itemParams(place, "variable");
  // Validated by `here` first (a string of bounded length); its rules are checked in src/secrets.
  const item = (request: FastifyRequest, kind: "secret" | "variable"): string =>
    String((request.params as Record<string, unknown>)[kind]);

  app.get(`${base}/secrets`, async (request) => listSecrets(ctx.pool, (await here(request)).scope));

  app.get(`${base}/secrets/:secret`, async (request) =>
    getSecret(ctx.pool, (await here(request, secretParams)).scope, item(request, "secret")),
  );

  app.put(`${base}/secrets/:secret`, async (request, reply) => {
    const w = await here(request, secretParams);
    const { body } = validate(request, { body: SetSecret });
    const r = await audited(
      ctx.pool,
      request,
      (db) =>
        setSecret(db, ctx.kms, w.scope, {
          name: item(request, "secret"),
          value: body.value,
          actor: actorName(request),
        }),
      (r) => ({
        action: r.created ? "secret.created" : "secret.updated",
        object: w.object,
        details: { ...w.details, name: r.secret.name, version: r.secret.version },
      }),
    );
    return reply.status(r.created ? 201 : 200).send(r.secret);
  });

  app.delete(`${base}/secrets/:secret`, async (request, reply) => {
    const w = await here(request, secretParams);
    await audited(
      ctx.pool,
      request,
      (db) => deleteSecret(db, w.scope, item(request, "secret")),
      (s) => ({
        action: "secret.deleted",
        object: w.object,
        details: { ...w.details, name: s.name, version: s.version },
      }),
    );
    return reply.status(204).send();
  });

  app.get(`${base}/variables`, async (request) => listVariables(ctx.pool, (await here(request)).scope));

  app.get(`${base}/variables/:variable`, async (request) =>
    getVariable(ctx.pool, (await here(request, variableParams)).scope, item(request, "variable")),
  );

  app.put(`${base}/variables/:variable`, async (request, reply) => {
    const w = await here(request, variableParams);
    const { body } = validate(request, { body: SetVariable });
    const r = await audited(
      ctx.pool,
      request,
      (db) =>
        setVariable(db, w.scope, {
          name: item(request, "variable"),
          value: body.value,
          actor: actorName(request),
        }),
      (r) => ({
        action: r.created ? "variable.created" : "variable.updated",
        object: w.object,
        details: { ...w.details, name: r.variable.name },
      }),
    );
    return reply.status(r.created ? 201 : 200).send(r.variable);
  });

  app.delete(`${base}/variables/:variable`, async (request, reply) => {
    const w = await here(request, variableParams);
    await audited(
      ctx.pool,
      request,
      (db) => deleteVariable(db, w.scope, item(request, "variable")),
      (v) => ({ action: "variable.deleted", object: w.object, details: { ...w.details, name: v.name } }),
    );
    return reply.status(204).send();
  });
}

export function secretRoutes(app: FastifyInstance, ctx: RouteContext): void {
  for (const place of ["organization", "repository", "environment"] as const) placeRoutes(app, ctx, place);
}
