// A run's artifacts for people and programs with the right to read the run (runs.read on its
// repository): the list, and the download of one artifact's bytes (the zip its job uploaded),
// streamed from the blob store with its SHA-256 in a header so a client can check what it got.
//   GET /runs/:id/artifacts
//   GET /runs/:id/artifacts/:artifact/download
//   GET /runs/:id/artifacts/:artifact/provenance   its DSSE envelope, for `airlock verify`
//   POST /runs/:id/artifacts/:artifact/promote    the promotion gate (runs.write), audited either way
//   GET /runs/:id/mismatches                        what differed when independent builds disagreed
// and, beside them, a repository's artifact policy (artifact-policy.ts).
import type { FastifyInstance } from "fastify";
import type { ArtifactRecord, ArtifactService } from "../../artifacts/index.js";
import { appendAudit } from "../../audit/index.js";
import { AirlockError, ErrorCode, isAirlockError } from "../../errors/index.js";
import { actorName } from "../access.js";
import { audited, requestActor } from "../actor.js";
import type { RouteContext } from "../deps.js";
import { artifactPolicyRoutes } from "./artifact-policy.js";
import { IdParams, RunArtifactParams, type RunArtifactView } from "../schemas-artifacts.js";
import { validate } from "../validate.js";

function service(ctx: RouteContext): ArtifactService {
  if (!ctx.artifacts)
    throw new AirlockError(ErrorCode.NOT_FOUND, "the artifact service is not enabled on this server");
  return ctx.artifacts;
}

export function artifactView(a: ArtifactRecord): RunArtifactView {
  return {
    id: a.id,
    name: a.name,
    size: a.size ?? 0,
    sha256: a.sha256 ?? "",
    runAttempt: a.runAttempt,
    jobId: a.jobId,
    jobAttempt: a.jobAttempt,
    nodeId: a.nodeId,
    trustTier: a.trustTier,
    status: a.status,
    createdAt: a.createdAt.toISOString(),
    expiresAt: a.expiresAt.toISOString(),
    promotedAt: a.promotedAt?.toISOString() ?? null,
    promotedBy: a.promotedBy,
  };
}

/** A file name for Content-Disposition: the artifact's name, printable ASCII only. */
function fileName(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9._ -]/g, "_").slice(0, 200) || "artifact";
  return `${safe}.zip`;
}

export function runArtifactRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get("/runs/:id/artifacts", async (request) => {
    const { params } = validate(request, { params: IdParams });
    return (await service(ctx).runArtifacts(params.id)).map(artifactView);
  });

  app.get("/runs/:id/artifacts/:artifact/download", async (request, reply) => {
    const { params } = validate(request, { params: RunArtifactParams });
    const svc = service(ctx);
    const a = await svc.runArtifact(params.id, params.artifact);
    const blob = await svc.open(a);
    return reply
      .header("content-type", a.mimeType || "application/zip")
      .header("content-length", String(blob.size))
      .header("content-disposition", `attachment; filename="${fileName(a.name)}"`)
      .header("x-airlock-sha256", a.sha256 ?? "")
      .header("cache-control", "no-store")
      .send(blob.stream);
  });

  app.get("/runs/:id/mismatches", async (request) => {
    const { params } = validate(request, { params: IdParams });
    return (await service(ctx).mismatches(params.id)).map((m) => ({
      ...m,
      createdAt: m.createdAt.toISOString(),
    }));
  });

  app.get("/runs/:id/artifacts/:artifact/provenance", async (request, reply) => {
    const { params } = validate(request, { params: RunArtifactParams });
    const file = await service(ctx).provenance(params.id, params.artifact);
    return reply.header("content-type", "application/json").header("cache-control", "no-store").send(file);
  });

  // The gate decides from the artifact's status and its run's trust tier under the repository's
  // policy; a refusal (409 ARTIFACT_NOT_PROMOTABLE) is recorded too, as an operator may ask why.
  app.post("/runs/:id/artifacts/:artifact/promote", async (request) => {
    const { params } = validate(request, { params: RunArtifactParams });
    const svc = service(ctx);
    try {
      const p = await audited(
        ctx.pool,
        request,
        (db) => svc.promote(params.id, params.artifact, actorName(request), db),
        (r) => ({
          action: r.changed ? "artifact.promoted" : "artifact.promote_repeated",
          object: { kind: "artifact", id: r.artifact.id },
          details: {
            runId: r.artifact.runId,
            name: r.artifact.name,
            sha256: r.artifact.sha256,
            status: r.artifact.status,
            trustTier: r.artifact.trustTier,
          },
        }),
      );
      return artifactView(p.artifact);
    } catch (err) {
      if (isAirlockError(err) && err.code === ErrorCode.ARTIFACT_NOT_PROMOTABLE)
        await appendAudit(ctx.pool, {
          ...requestActor(request),
          action: "artifact.promotion_refused",
          object: { kind: "artifact", id: params.artifact },
          details: { runId: params.id, reason: err.message, ...(err.details as Record<string, unknown>) },
        });
      throw err;
    }
  });

  artifactPolicyRoutes(app, ctx);
}
