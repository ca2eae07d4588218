// What the S3 blob store (./s3.ts) needs beside the S3 calls themselves: a source turned into a
// body that hashes (SHA-256, size) as the upload reads it and stops at maxBytes, and the one-line
// errors a backend failure becomes. Messages name the operation, the bucket and what the server
// answered (error name, HTTP status), never a credential: the SDK's errors carry none, and only
// their name and status are copied into the message.
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import type { BlobInfo, PutOptions, Source } from "./types.js";

export interface HashedBody {
  /** The bytes as they pass, for the upload to read. */
  body: Readable;
  /** The digest and size once `body` has ended. */
  info(): BlobInfo;
  /**
   * The error of the source or of the maxBytes check, if reading failed: the cause to report even
   * when the upload then failed otherwise too (an abort the server refused).
   */
  failure(): unknown;
}

export function hashedBody(source: Source, opts: PutOptions): HashedBody {
  const hash = createHash("sha256");
  let size = 0;
  let sourceError: unknown;
  async function* pass(): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of source) {
        const c = chunk as Uint8Array | string;
        const bytes =
          typeof c === "string" ? Buffer.from(c) : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
        size += bytes.byteLength;
        if (opts.maxBytes !== undefined && size > opts.maxBytes)
          throw new AirlockError(ErrorCode.ARTIFACT_TOO_LARGE, `more than ${opts.maxBytes} bytes`);
        hash.update(bytes);
        yield bytes;
      }
    } catch (err) {
      sourceError = err;
      throw err;
    }
  }
  let digest: string | undefined;
  return {
    body: Readable.from(pass(), { objectMode: false }),
    info: () => ({ sha256: (digest ??= hash.digest("hex")), size }),
    failure: () => sourceError,
  };
}

interface SdkError {
  name?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

export function statusOf(err: unknown): number | undefined {
  return (err as SdkError | undefined)?.$metadata?.httpStatusCode;
}

/** A 404 of a HEAD or GET: the key is not there. */
export function isMissing(err: unknown): boolean {
  const e = err as SdkError | undefined;
  return statusOf(err) === 404 || e?.name === "NoSuchKey" || e?.name === "NotFound";
}

/** A backend failure as one line: BLOB_STORE_UNAVAILABLE, retryable (the client may try again). */
export function storeError(bucket: string, what: string, err: unknown): AirlockError {
  if (err instanceof AirlockError) return err;
  const e = (err ?? {}) as SdkError;
  const status = statusOf(err);
  const name = e.code ?? (e.name && e.name !== "Error" ? e.name : undefined);
  const said = [name, status ? `HTTP ${status}` : undefined].filter(Boolean).join(", ");
  return new AirlockError(
    ErrorCode.BLOB_STORE_UNAVAILABLE,
    `blob store s3://${bucket}: ${what} failed${said ? ` (${said})` : ""}`,
    { retryable: true, cause: err },
  );
}
