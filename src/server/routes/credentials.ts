// Job-source credentials of a repository, write-only:
//   GET    /repositories/:id/credentials        which kinds are set, when and by whom — no value
//   PUT    /repositories/:id/credentials/:kind  { value, username?, knownHosts? } (sealed)
//   DELETE /repositories/:id/credentials/:kind
// kind: clone-password, deploy-key, forge-token (the webhook secret is Airlock's own). Changes are
// audited with the kind only; no response, error or log line carries a value.
import type { FastifyInstance } from "fastify";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import { ownerOfRepository } from "../../orchestrator/catalog/index.js";
import {
  deleteSourceCredential,
  listSourceCredentials,
  setSourceCredential,
  type SettableKind,
  type SourceCredential,
} from "../../secrets/index.js";
import { actorName } from "../access.js";
import { audited } from "../actor.js";
import type { RouteContext } from "../deps.js";
import { IdParams } from "../schemas.js";
import { CredentialParams, SetCredential, type SetCredentialBody } from "../schemas-credentials.js";
import { validate } from "../validate.js";

function credentialOf(kind: SettableKind, b: SetCredentialBody): SourceCredential {
  const extra = (field: "username" | "knownHosts") => {
    if (b[field] !== undefined)
      throw new AirlockError(ErrorCode.CREDENTIAL_INVALID, `a ${kind} takes no ${field}`);
  };
  if (kind === "clone-password")
    return (extra("knownHosts"), { kind, username: b.username ?? "x-access-token", password: b.value });
  if (kind === "deploy-key")
    return (
      extra("username"),
      { kind, privateKey: b.value, ...(b.knownHosts !== undefined ? { knownHosts: b.knownHosts } : {}) }
    );
  extra("username");
  extra("knownHosts");
  return { kind, token: b.value };
}

async function repositoryOf(ctx: RouteContext, id: number) {
  const o = await ownerOfRepository(ctx.pool, id);
  if (!o?.repositoryId) throw new AirlockError(ErrorCode.NOT_FOUND, `repository ${id} not found`);
  return { organizationId: o.organizationId, repositoryId: o.repositoryId, organization: o.organizationName };
}

export function credentialRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get("/repositories/:id/credentials", async (request) => {
    const { params } = validate(request, { params: IdParams });
    const r = await repositoryOf(ctx, params.id);
    return listSourceCredentials(ctx.pool, r.repositoryId);
  });

  app.put("/repositories/:id/credentials/:kind", async (request) => {
    const { params, body } = validate(request, { params: CredentialParams, body: SetCredential });
    const credential = credentialOf(params.kind, body);
    const r = await repositoryOf(ctx, params.id);
    await audited(
      ctx.pool,
      request,
      (db) => setSourceCredential(db, ctx.kms, r, credential, actorName(request)),
      () => ({
        action: "repository.credential_set",
        object: { kind: "repository", id: r.repositoryId },
        details: { organization: r.organization, kind: params.kind },
      }),
    );
    return (await listSourceCredentials(ctx.pool, r.repositoryId)).find((c) => c.kind === params.kind);
  });

  app.delete("/repositories/:id/credentials/:kind", async (request, reply) => {
    const { params } = validate(request, { params: CredentialParams });
    const r = await repositoryOf(ctx, params.id);
    await audited(
      ctx.pool,
      request,
      async (db) => {
        if (!(await deleteSourceCredential(db, r.repositoryId, params.kind)))
          throw new AirlockError(ErrorCode.NOT_FOUND, `repository ${r.repositoryId} has no ${params.kind}`);
      },
      () => ({
        action: "repository.credential_removed",
        object: { kind: "repository", id: r.repositoryId },
        details: { organization: r.organization, kind: params.kind },
      }),
    );
    return reply.status(204).send();
  });
}
