// The signed blob URLs of the artifact service (src/artifacts/signed-url.ts), speaking the part of
// Azure Blob Storage that `@actions/artifact` uses: an upload URL takes Put Block
// (PUT ?comp=block&blockid=…, body = the block) and Put Block List (PUT ?comp=blocklist, an XML
// <BlockList>), each answered 201; a download URL takes GET (200, or 206 for a Range). Bodies are
// streamed to and from the blob store, never buffered whole. Refusals are Azure-style XML errors
// with x-ms-error-code set to the Airlock code. No bearer token: the URL's signature, its expiry and
// its job attempt being live are the authorization.
import { randomUUID } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import {
  BLOB_PATH,
  checkBlockId,
  MAX_BLOCK_LIST_BYTES,
  parseBlockList,
  type ArtifactService,
  type ByteRange,
} from "../../artifacts/index.js";
import { AirlockError, ErrorCode, isAirlockError } from "../../errors/index.js";
import type { RouteContext } from "../deps.js";
import { statusOf } from "../errors.js";
import { BlobParams } from "../schemas-artifacts.js";
import { validate } from "../validate.js";

const xmlText = (s: string): string => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

function blobError(request: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const e = isAirlockError(err) ? err : new AirlockError(ErrorCode.INTERNAL, "internal server error");
  const status = statusOf(e.code);
  if (status >= 500) request.log.error({ err }, "artifact blob request failed");
  return reply
    .status(status)
    .header("content-type", "application/xml")
    .header("x-ms-error-code", e.code)
    .send(
      `<?xml version="1.0" encoding="utf-8"?><Error><Code>${e.code}</Code><Message>${xmlText(e.message)}</Message></Error>`,
    );
}

function service(ctx: RouteContext): ArtifactService {
  if (!ctx.artifacts)
    throw new AirlockError(ErrorCode.NOT_FOUND, "the artifact service is not enabled on this server");
  return ctx.artifacts;
}

/** Azure's response headers the client's deserializer looks for. */
function azureHeaders(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const version = request.headers["x-ms-version"];
  return reply
    .header("x-ms-request-id", randomUUID())
    .header(
      "x-ms-version",
      typeof version === "string" && /^[\w-]{1,32}$/.test(version) ? version : "2025-11-05",
    )
    .header("x-ms-request-server-encrypted", "false");
}

async function readBounded(request: FastifyRequest, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request.raw) {
    size += (chunk as Buffer).length;
    if (size > max)
      throw new AirlockError(ErrorCode.ARTIFACT_TOO_LARGE, `the block list is larger than ${max} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** One `bytes=a-b`, `bytes=a-` or `bytes=-n` range; anything else reads the whole blob. */
export function parseRange(header: string | undefined, size: number): ByteRange | undefined {
  const m = header === undefined ? null : /^bytes=(\d{0,15})-(\d{0,15})$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return undefined;
  if (m[1] === "") return { start: Math.max(0, size - Number(m[2])) };
  return { start: Number(m[1]), ...(m[2] === "" ? {} : { end: Number(m[2]) }) };
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
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", (_request, _payload, done) => done(null, undefined));
  app.put(BLOB_PATH, (request, reply) =>
    upload(ctx, request, reply).catch((err: unknown) => blobError(request, reply, err)),
  );
  app.get(BLOB_PATH, (request, reply) =>
    download(ctx, request, reply).catch((err: unknown) => blobError(request, reply, err)),
  );
}
