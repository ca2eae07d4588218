// The GitHub artifact service v4 over twirp JSON (src/artifacts): what `@actions/artifact` (and so
// actions/upload-artifact@v4 and download-artifact@v4) calls at
// `<origin of ACTIONS_RESULTS_URL>/twirp/github.actions.results.api.v1.ArtifactService/<Method>`.
// Authenticated by the job attempt's runtime token alone (Bearer ACTIONS_RUNTIME_TOKEN), checked on
// every call; errors in twirp's shape, { code, msg, meta: { airlock_code } }, because the client
// reads `msg` and retries only 429 and 5xx.
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { z } from "zod";
import {
  jobBackendId,
  runBackendId,
  type ArtifactRecord,
  type ArtifactService,
  type Caller,
} from "../../artifacts/index.js";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import { bearerToken } from "../auth.js";
import type { RouteContext } from "../deps.js";
import {
  ArtifactNameBody,
  ArtifactView,
  CreateArtifactBody,
  FinalizeArtifactBody,
  ListArtifactsBody,
} from "../schemas-artifacts.js";
import { validate } from "../validate.js";
import { twirpError } from "./twirp.js";

export const TWIRP_PREFIX = "/twirp/github.actions.results.api.v1.ArtifactService";

export function artifactView(a: ArtifactRecord): z.infer<typeof ArtifactView> {
  return {
    workflow_run_backend_id: runBackendId(a.runId),
    workflow_job_run_backend_id: jobBackendId(a.jobId),
    database_id: String(a.id),
    name: a.name,
    size: String(a.size ?? 0),
    created_at: a.createdAt.toISOString(),
    digest: `sha256:${a.sha256 ?? ""}`,
  };
}

type Handler = (svc: ArtifactService, c: Caller, request: FastifyRequest) => Promise<unknown>;

const METHODS: Record<string, Handler> = {
  CreateArtifact: async (svc, c, request) => {
    const { body } = validate(request, { body: CreateArtifactBody });
    const { uploadUrl } = await svc.create(c, {
      runBackendId: body.workflow_run_backend_id,
      jobBackendId: body.workflow_job_run_backend_id,
      name: body.name,
      mimeType: body.mime_type,
      expiresAt: body.expires_at === undefined ? undefined : new Date(body.expires_at),
    });
    return { ok: true, signed_upload_url: uploadUrl };
  },
  FinalizeArtifact: async (svc, c, request) => {
    const { body } = validate(request, { body: FinalizeArtifactBody });
    const a = await svc.finalize(c, {
      runBackendId: body.workflow_run_backend_id,
      jobBackendId: body.workflow_job_run_backend_id,
      name: body.name,
      size: Number(body.size),
      hash: body.hash,
    });
    return { ok: true, artifact_id: String(a.id) };
  },
  ListArtifacts: async (svc, c, request) => {
    const { body } = validate(request, { body: ListArtifactsBody });
    const list = await svc.list(c, {
      runBackendId: body.workflow_run_backend_id,
      name: body.name_filter,
      id: body.id_filter === undefined ? undefined : Number(body.id_filter),
    });
    return { artifacts: list.map(artifactView) };
  },
  GetSignedArtifactURL: async (svc, c, request) => {
    const { body } = validate(request, { body: ArtifactNameBody });
    return {
      signed_url: await svc.downloadUrl(c, { runBackendId: body.workflow_run_backend_id, name: body.name }),
    };
  },
  DeleteArtifact: async (svc, c, request) => {
    const { body } = validate(request, { body: ArtifactNameBody });
    const a = await svc.delete(c, { runBackendId: body.workflow_run_backend_id, name: body.name });
    return { ok: true, artifact_id: String(a.id) };
  },
};

export const TWIRP_METHODS = Object.keys(METHODS);

export function artifactTwirpRoutes(app: FastifyInstance, ctx: RouteContext): void {
  for (const [method, handle] of Object.entries(METHODS)) {
    app.post(`${TWIRP_PREFIX}/${method}`, async (request, reply) => {
      try {
        const svc = ctx.artifacts;
        if (!svc)
          throw new AirlockError(ErrorCode.NOT_FOUND, "the artifact service is not enabled on this server");
        const caller = await svc.caller(bearerToken(request.headers.authorization));
        return reply.send(await handle(svc, caller, request));
      } catch (err) {
        return twirpError(request, reply, err);
      }
    });
  }
}
