// The signed blob URLs of the artifact service (src/artifacts/signed-url.ts), speaking the part of
// Azure Blob Storage that `@actions/artifact` uses: an upload URL takes Put Block
// (PUT ?comp=block&blockid=…, body = the block) and Put Block List (PUT ?comp=blocklist, an XML
// <BlockList>), each answered 201; a download URL takes GET (200, or 206 for a Range). Bodies are
// streamed to and from the blob store, never buffered whole. Refusals are Azure-style XML errors
// with x-ms-error-code set to the Airlock code. No bearer token: the URL's signature, its expiry and
// its job attempt being live are the authorization.
import type { FastifyInstance } from "fastify";
import { BLOB_PATH, type ArtifactService } from "../../artifacts/index.js";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import type { RouteContext } from "../deps.js";
import { signedBlobRoutes } from "./azure-blob.js";

function service(ctx: RouteContext): ArtifactService {
  if (!ctx.artifacts)
    throw new AirlockError(ErrorCode.NOT_FOUND, "the artifact service is not enabled on this server");
  return ctx.artifacts;
}

export function artifactBlobRoutes(app: FastifyInstance, ctx: RouteContext): void {
  // No Put Blob: ArtifactService has no putWhole, `@actions/artifact` always sends blocks.
  signedBlobRoutes(
    app,
    BLOB_PATH,
    () => service(ctx),
    (a) => {
      const file = a.mimeType === "application/zip" && !a.name.endsWith(".zip") ? `${a.name}.zip` : a.name;
      return {
        "content-type": a.mimeType,
        "content-disposition": `attachment; filename*=UTF-8''${encodeURIComponent(file)}`,
        etag: `"${a.sha256}"`,
      };
    },
  );
}
