// The signed blob URLs of the artifact service (src/artifacts/signed-url.ts), speaking the part of
// Azure Blob Storage that `@actions/artifact` uses: an upload URL takes Put Block
// (PUT ?comp=block&blockid=…, body = the block) and Put Block List (PUT ?comp=blocklist, an XML
// <BlockList>), each answered 201; a download URL takes GET (200, or 206 for a Range). Bodies are
// streamed to and from the blob store, never buffered whole. Refusals are Azure-style XML errors
// with x-ms-error-code set to the Airlock code. No bearer token: the URL's signature, its expiry and
// its job attempt being live are the authorization.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import {
  BLOB_PATH,
  checkBlockId,
  MAX_BLOCK_LIST_BYTES,
  parseBlockList,
  type ArtifactService,
} from "../../artifacts/index.js";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import type { RouteContext } from "../deps.js";
import { BlobParams } from "../schemas-artifacts.js";
import { validate } from "../validate.js";
import { azureHeaders, blobError, parseRange, rawBodies, readBounded } from "./azure-blob.js";

function service(ctx: RouteContext): ArtifactService {
  if (!ctx.artifacts)
    throw new AirlockError(ErrorCode.NOT_FOUND, "the artifact service is not enabled on this server");
  return ctx.artifacts;
}

async function upload(
  ctx: RouteContext,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const { params } = validate(request, { params: BlobParams });
  const svc = service(ctx);
  const query = request.query as Record<string, unknown>;
  const a = await svc.grant(params.id, query, "upload");
  if (query.comp === "block") {
    await svc.stageBlock(a, checkBlockId(query.blockid), request.raw);
    return azureHeaders(request, reply).status(201).send();
  }
  if (query.comp === "blocklist") {
    await svc.commitBlockList(a, parseBlockList(await readBounded(request, MAX_BLOCK_LIST_BYTES)));
    return azureHeaders(request, reply)
      .status(201)
      .header("etag", `"${a.id}-${Date.now()}"`)
      .header("last-modified", new Date().toUTCString())
      .send();
  }
  throw new AirlockError(ErrorCode.ARTIFACT_INVALID, "an upload URL takes Put Block and Put Block List only");
}

async function download(
  ctx: RouteContext,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const { params } = validate(request, { params: BlobParams });
  const svc = service(ctx);
  const a = await svc.grant(params.id, request.query as Record<string, unknown>, "download");
  const header = request.headers.range;
  const range = parseRange(typeof header === "string" ? header : undefined, a.size ?? 0);
  const blob = await svc.open(a, range);
  const file = a.mimeType === "application/zip" && !a.name.endsWith(".zip") ? `${a.name}.zip` : a.name;
  azureHeaders(request, reply)
    .header("content-type", a.mimeType)
    .header("content-length", String(blob.end - blob.start + 1))
    .header("content-disposition", `attachment; filename*=UTF-8''${encodeURIComponent(file)}`)
    .header("accept-ranges", "bytes")
    .header("etag", `"${a.sha256}"`)
    .header("x-ms-blob-type", "BlockBlob");
  if (range) reply.status(206).header("content-range", `bytes ${blob.start}-${blob.end}/${blob.size}`);
  return reply.send(blob.stream);
}

export function artifactBlobRoutes(app: FastifyInstance, ctx: RouteContext): void {
  // The bodies are the blocks themselves: left unread for the handler to stream into the store.
  rawBodies(app);
  app.put(BLOB_PATH, (request, reply) =>
    upload(ctx, request, reply).catch((err: unknown) => blobError(request, reply, err)),
  );
  app.get(BLOB_PATH, (request, reply) =>
    download(ctx, request, reply).catch((err: unknown) => blobError(request, reply, err)),
  );
}
