// What the signed blob URLs of the artifact and cache services share: the part of Azure Blob
// Storage's HTTP dialect @azure/storage-blob and the toolkit need — its response headers, XML errors
// (x-ms-error-code set to the Airlock code), a bounded read of a block list body, and one Range.
import { randomUUID } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ByteRange } from "../../artifacts/index.js";
import { AirlockError, ErrorCode, isAirlockError } from "../../errors/index.js";
import { statusOf } from "../errors.js";

const xmlText = (s: string): string => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

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
