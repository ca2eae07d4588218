// What the signed blob URLs of the artifact and cache services share: the part of Azure Blob
// Storage's HTTP dialect @azure/storage-blob and the toolkit need — its response headers, XML errors
// (x-ms-error-code set to the Airlock code), a bounded read of a block list body, one Range, and
// the routes themselves (signedBlobRoutes): upload by blocks (or whole), download with a Range.
import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import {
  checkBlockId,
  MAX_BLOCK_LIST_BYTES,
  parseBlockList,
  type BlobRead,
  type ByteRange,
} from "../../artifacts/index.js";
import { AirlockError, ErrorCode, isAirlockError } from "../../errors/index.js";
import { statusOf } from "../errors.js";
import { BlobParams } from "../schemas-artifacts.js";
import { validate } from "../validate.js";

// Text content of an XML element: only <, > and & need escaping, and with the named entities —
// the SDK's parser (@azure/core-xml) decodes those but leaves numeric ones (&#39;) as they are,
// which put "the repository&#39;s artifacts" in a job's log.
const XML_ENTITIES: Record<string, string> = { "<": "&lt;", ">": "&gt;", "&": "&amp;" };
export const xmlText = (s: string): string => s.replace(/[<>&]/g, (c) => XML_ENTITIES[c]!);

export function blobError(request: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const e = isAirlockError(err) ? err : new AirlockError(ErrorCode.INTERNAL, "internal server error");
  const status = statusOf(e.code);
  if (status >= 500) request.log.error({ err }, "blob request failed");
  return reply
    .status(status)
    .header("content-type", "application/xml")
    .header("x-ms-error-code", e.code)
    .send(
      `<?xml version="1.0" encoding="utf-8"?><Error><Code>${e.code}</Code><Message>${xmlText(e.message)}</Message></Error>`,
    );
}

/** Azure's response headers the client's deserializer looks for. */
export function azureHeaders(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const version = request.headers["x-ms-version"];
  return reply
    .header("x-ms-request-id", randomUUID())
    .header(
      "x-ms-version",
      typeof version === "string" && /^[\w-]{1,32}$/.test(version) ? version : "2025-11-05",
    )
    .header("x-ms-request-server-encrypted", "false");
}

export async function readBounded(request: FastifyRequest, max: number): Promise<string> {
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

/** The body of a route taking raw bytes: left unread for the handler to stream into the store. */
export function rawBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", (_request, _payload, done) => done(null, undefined));
}

/** What one service's signed blob URLs need from it (artifacts-blobs.ts, caches-blobs.ts). */
export interface SignedBlobService<T extends { id: number; size: number | null }> {
  /** The URL's grant for this operation (signature, expiry, live attempt), or a refusal. */
  grant(id: number, query: Record<string, unknown>, op: "upload" | "download"): Promise<T>;
  stageBlock(t: T, blockId: string, body: Readable): Promise<unknown>;
  commitBlockList(t: T, ids: string[]): Promise<void>;
  /** Put Blob (the whole upload in one body); absent: refused. */
  putWhole?(t: T, body: Readable): Promise<void>;
  open(t: T, range?: ByteRange): Promise<BlobRead>;
}

/**
 * PUT (Put Block, Put Block List, and Put Blob where the service takes it) and GET/HEAD (200, or
 * 206 for one Range) at `path`, errors as Azure XML. `downloadHeaders`: the item's own headers
 * (content type, etag, …). `service` throws when the service is not enabled.
 */
export function signedBlobRoutes<T extends { id: number; size: number | null }>(
  app: FastifyInstance,
  path: string,
  service: () => SignedBlobService<T>,
  downloadHeaders: (t: T) => Record<string, string>,
): void {
  rawBodies(app);
  const upload = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const { params } = validate(request, { params: BlobParams });
    const svc = service();
    const query = request.query as Record<string, unknown>;
    const t = await svc.grant(params.id, query, "upload");
    if (query.comp === "block") {
      await svc.stageBlock(t, checkBlockId(query.blockid), request.raw);
      return azureHeaders(request, reply).status(201).send();
    }
    if (query.comp === "blocklist")
      await svc.commitBlockList(t, parseBlockList(await readBounded(request, MAX_BLOCK_LIST_BYTES)));
    else if (query.comp === undefined && svc.putWhole) await svc.putWhole(t, request.raw);
    else
      throw new AirlockError(
        ErrorCode.ARTIFACT_INVALID,
        svc.putWhole
          ? "an upload URL takes Put Blob, Put Block and Put Block List only"
          : "an upload URL takes Put Block and Put Block List only",
      );
    return azureHeaders(request, reply)
      .status(201)
      .header("etag", `"${t.id}-${Date.now()}"`)
      .header("last-modified", new Date().toUTCString())
      .send();
  };
  const download = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const { params } = validate(request, { params: BlobParams });
    const svc = service();
    const t = await svc.grant(params.id, request.query as Record<string, unknown>, "download");
    const header = request.headers.range;
    const range = parseRange(typeof header === "string" ? header : undefined, t.size ?? 0);
    const blob = await svc.open(t, range);
    azureHeaders(request, reply)
      .headers(downloadHeaders(t))
      .header("content-length", String(blob.end - blob.start + 1))
      .header("accept-ranges", "bytes")
      .header("x-ms-blob-type", "BlockBlob");
    if (range) reply.status(206).header("content-range", `bytes ${blob.start}-${blob.end}/${blob.size}`);
    if (request.method === "HEAD") {
      // Fastify's HEAD route keeps Content-Length for a stream payload; an empty one reads nothing.
      blob.stream.destroy();
      return reply.send(Readable.from([]));
    }
    return reply.send(blob.stream);
  };
  app.put(path, (request, reply) =>
    upload(request, reply).catch((err: unknown) => blobError(request, reply, err)),
  );
  app.get(path, (request, reply) =>
    download(request, reply).catch((err: unknown) => blobError(request, reply, err)),
  );
}
