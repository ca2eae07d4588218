// The signed blob URLs of the cache service (/caches/blobs/:id), speaking the part of Azure Blob
// Storage `@actions/cache` uses. Upload: BlockBlobClient.uploadFile sends an archive up to 128 MiB
// whole (Put Blob: PUT without comp, x-ms-blob-type: BlockBlob) and a larger one as Put Block
// (?comp=block&blockid=…) then Put Block List (?comp=blocklist); each answered 201. Download: the
// client uses plain HTTP GET off Azure (and the Azure SDK's ranged GETs on Azure hosts), so GET
// answers 200 with Content-Length, or 206 for one Range, with the headers the SDK reads; HEAD the
// same without a body. No bearer token: the URL's signature, expiry and live attempt authorize.
import type { FastifyInstance } from "fastify";
import { CACHE_BLOBS } from "../../artifacts/index.js";
import type { CacheService } from "../../caches/index.js";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import type { RouteContext } from "../deps.js";
import { signedBlobRoutes } from "./azure-blob.js";

function service(ctx: RouteContext): CacheService {
  if (!ctx.caches)
    throw new AirlockError(ErrorCode.NOT_FOUND, "the cache service is not enabled on this server");
  return ctx.caches;
}

export function cacheBlobRoutes(app: FastifyInstance, ctx: RouteContext): void {
  signedBlobRoutes(
    app,
    CACHE_BLOBS.path,
    () => service(ctx),
    (e) => ({
      "content-type": "application/octet-stream",
      etag: `"${e.sha256}"`,
      "last-modified": (e.finalizedAt ?? e.createdAt).toUTCString(),
    }),
  );
}
