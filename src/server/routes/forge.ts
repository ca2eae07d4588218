// A repository's forge for commit statuses (src/forge-status):
//   GET /repositories/:id/forge  the kind and API URL set, what they resolve to, whether a token is set
//   PUT /repositories/:id/forge  { kind?, apiUrl? } (null: back to inferred), audited
import type { FastifyInstance } from "fastify";
import { getRepositoryForge, setRepositoryForge } from "../../orchestrator/catalog/index.js";
import { audited } from "../actor.js";
import type { RouteContext } from "../deps.js";
import { IdParams } from "../schemas.js";
import { RepositoryForgeBody } from "../schemas-forge.js";
import { validate } from "../validate.js";

export function forgeRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get("/repositories/:id/forge", async (request) => {
    const { params } = validate(request, { params: IdParams });
    return getRepositoryForge(ctx.pool, params.id);
  });

  app.put("/repositories/:id/forge", async (request) => {
    const { params, body } = validate(request, { params: IdParams, body: RepositoryForgeBody });
    return audited(
      ctx.pool,
      request,
      (db) =>
        setRepositoryForge(db, params.id, {
          ...(body.kind !== undefined ? { kind: body.kind } : {}),
          ...(body.apiUrl !== undefined ? { apiUrl: body.apiUrl } : {}),
        }),
      (r) => ({
        action: "repository.forge_changed",
        object: { kind: "repository", id: r.id },
        details: { name: r.name, kind: r.kind, apiUrl: r.apiUrl },
      }),
    );
  });
}
