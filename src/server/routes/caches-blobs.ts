// The signed blob URLs of the cache service (/caches/blobs/:id), speaking the part of Azure Blob
// Storage `@actions/cache` uses. Upload: BlockBlobClient.uploadFile sends an archive up to 128 MiB
// whole (Put Blob: PUT without comp, x-ms-blob-type: BlockBlob) and a larger one as Put Block
// (?comp=block&blockid=…) then Put Block List (?comp=blocklist); each answered 201. Download: the
// client uses plain HTTP GET off Azure (and the Azure SDK's ranged GETs on Azure hosts), so GET
// answers 200 with Content-Length, or 206 for one Range, with the headers the SDK reads; HEAD the
// same without a body. No bearer token: the URL's signature, expiry and live attempt authorize.
import { Readable } from "node:stream";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { CACHE_BLOBS, checkBlockId, MAX_BLOCK_LIST_BYTES, parseBlockList } from "../../artifacts/index.js";
import type { CacheService } from "../../caches/index.js";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import type { RouteContext } from "../deps.js";
import { BlobParams } from "../schemas-artifacts.js";
import { validate } from "../validate.js";
import { azureHeaders, blobError, parseRange, rawBodies, readBounded } from "./azure-blob.js";

function service(ctx: RouteContext): CacheService {
  if (!ctx.caches)
    throw new AirlockError(ErrorCode.NOT_FOUND, "the cache service is not enabled on this server");
  return ctx.caches;
}

async function upload(
  ctx: RouteContext,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const { params } = validate(request, { params: BlobParams });
  const svc = service(ctx);
  const query = request.query as Record<string, unknown>;
  const e = await svc.grant(params.id, query, "upload");
  if (query.comp === "block") {
    await svc.stageBlock(e, checkBlockId(query.blockid), request.raw);
    return azureHeaders(request, reply).status(201).send();
  }
  if (query.comp === "blocklist")
    await svc.commitBlockList(e, parseBlockList(await readBounded(request, MAX_BLOCK_LIST_BYTES)));
  else if (query.comp === undefined) await svc.putWhole(e, request.raw);
  else
    throw new AirlockError(
      ErrorCode.ARTIFACT_INVALID,
      "an upload URL takes Put Blob, Put Block and Put Block List only",
    );
  return azureHeaders(request, reply)
    .status(201)
    .header("etag", `"${e.id}-${Date.now()}"`)
    .header("last-modified", new Date().toUTCString())
    .send();
}

async function download(
  ctx: RouteContext,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const { params } = validate(request, { params: BlobParams });
  const svc = service(ctx);
  const e = await svc.grant(params.id, request.query as Record<string, unknown>, "download");
  const header = request.headers.range;
  const range = parseRange(typeof header === "string" ? header : undefined, e.size ?? 0);
  const blob = await svc.open(e, range);
  azureHeaders(request, reply)
    .header("content-type", "application/octet-stream")
    .header("content-length", String(blob.end - blob.start + 1))
    .header("accept-ranges", "bytes")
    .header("etag", `"${e.sha256}"`)
    .header("last-modified", (e.finalizedAt ?? e.createdAt).toUTCString())
    .header("x-ms-blob-type", "BlockBlob");
  if (range) reply.status(206).header("content-range", `bytes ${blob.start}-${blob.end}/${blob.size}`);
  if (request.method === "HEAD") {
    // Fastify's HEAD route keeps Content-Length for a stream payload; an empty one reads nothing.
    blob.stream.destroy();
    return reply.send(Readable.from([]));
  }
  return reply.send(blob.stream);
}

export function cacheBlobRoutes(app: FastifyInstance, ctx: RouteContext): void {
  rawBodies(app);
  app.put(CACHE_BLOBS.path, (request, reply) =>
    upload(ctx, request, reply).catch((err: unknown) => blobError(request, reply, err)),
  );
  app.get(CACHE_BLOBS.path, (request, reply) =>
    download(ctx, request, reply).catch((err: unknown) => blobError(request, reply, err)),
  );
}
