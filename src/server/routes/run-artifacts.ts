// A run's artifacts for people and programs with the right to read the run (runs.read on its
// repository): the list, and the download of one artifact's bytes (the zip its job uploaded),
// streamed from the blob store with its SHA-256 in a header so a client can check what it got.
//   GET /runs/:id/artifacts
//   GET /runs/:id/artifacts/:artifact/download
//   GET /runs/:id/artifacts/:artifact/provenance   its DSSE envelope, for `airlock verify`
import type { FastifyInstance } from "fastify";
import type { ArtifactRecord, ArtifactService } from "../../artifacts/index.js";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import type { RouteContext } from "../deps.js";
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

  app.get("/runs/:id/artifacts/:artifact/provenance", async (request, reply) => {
    const { params } = validate(request, { params: RunArtifactParams });
    const file = await service(ctx).provenance(params.id, params.artifact);
    return reply.header("content-type", "application/json").header("cache-control", "no-store").send(file);
  });
}
