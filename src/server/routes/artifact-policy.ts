// A repository's artifact policy (src/artifacts/policy.ts): its quota of finalized artifact bytes
// and its promotion gate. Reading it is for anyone who sees the repository; changing it is a
// server administrator's (the quota is the server's disk, and loosening the gate is a trust
// decision), recorded in the audit log with the old and new values.
//   GET /repositories/:id/artifact-policy
//   PUT /repositories/:id/artifact-policy
import type { FastifyInstance } from "fastify";
import type { ArtifactService } from "../../artifacts/index.js";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import { audited } from "../actor.js";
import type { RouteContext } from "../deps.js";
import { ArtifactPolicyBody, IdParams, type ArtifactPolicyViewT } from "../schemas-artifacts.js";
import { validate } from "../validate.js";

function service(ctx: RouteContext): ArtifactService {
  if (!ctx.artifacts)
    throw new AirlockError(ErrorCode.NOT_FOUND, "the artifact service is not enabled on this server");
  return ctx.artifacts;
}

async function view(svc: ArtifactService, repositoryId: number): Promise<ArtifactPolicyViewT> {
  const p = await svc.policy(repositoryId);
  return {
    quotaBytes: p.policy.quotaBytes,
    effectiveQuotaBytes: p.quotaBytes,
    usedBytes: p.usedBytes,
    promote: p.policy.promote,
    corroborate: p.policy.corroborate,
  };
}

export function artifactPolicyRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get("/repositories/:id/artifact-policy", async (request) => {
    const { params } = validate(request, { params: IdParams });
    return view(service(ctx), params.id);
  });

  app.put("/repositories/:id/artifact-policy", async (request) => {
    const { params, body } = validate(request, { params: IdParams, body: ArtifactPolicyBody });
    const svc = service(ctx);
    const before = (await svc.policy(params.id)).policy;
    await audited(
      ctx.pool,
      request,
      (db) => svc.setPolicy(params.id, body, db),
      () => ({
        action: "repository.artifact_policy_changed",
        object: { kind: "repository", id: params.id },
        details: { before, after: body },
      }),
    );
    return view(svc, params.id);
  });
}
