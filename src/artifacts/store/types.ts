// The blob store's one interface (issue 13, item 1): content-addressed blobs named by their SHA-256,
// written and read as streams (a blob is never held whole in memory), plus a staging area for
// uploads that arrive in several requests (Azure blocks, later S3 multipart parts). The local
// filesystem backend (./local.ts) is the default; an S3-compatible backend implements the same calls:
// put → upload to a temporary key while hashing, then copy/rename to `sha256/ab/abcd…`; parts →
// objects under `uploads/<upload>/`; ranges → GET with Range.
import type { Readable } from "node:stream";

/** What the store computed while writing: lower-case hex SHA-256 and byte count. */
export interface BlobInfo {
  sha256: string;
  size: number;
}

/** Bytes `start` to `end`, both inclusive (as HTTP Range); `end` absent: to the end of the blob. */
export interface ByteRange {
  start: number;
  end?: number;
}

export interface BlobRead {
  stream: Readable;
  /** The whole blob's size. */
  size: number;
  /** The bytes the stream holds, inclusive. An empty blob: start 0, end -1. */
  start: number;
  end: number;
}

export type Source = AsyncIterable<Uint8Array> | Readable;

export interface PutOptions {
  /** Refuse (ARTIFACT_TOO_LARGE) and keep nothing once more bytes than this arrive. */
  maxBytes?: number;
}

export interface BlobStore {
  /**
   * Writes the stream, hashing on the fly, then makes it visible under its digest atomically.
   * Idempotent: the same bytes again leave one blob. A failed or refused write leaves nothing.
   */
  put(source: Source, opts?: PutOptions): Promise<BlobInfo>;
  /** A stream of the blob (or a range of it). BLOB_NOT_FOUND, RANGE_NOT_SATISFIABLE. */
  get(sha256: string, range?: ByteRange): Promise<BlobRead>;
  has(sha256: string): Promise<boolean>;
  /** Removes the blob; false when it was not there. Idempotent. */
  delete(sha256: string): Promise<boolean>;

  /** Stages one part of upload `upload` (names: [A-Za-z0-9_-]{1,128}); the same part again replaces it. */
  putPart(upload: string, part: string, source: Source, opts?: PutOptions): Promise<BlobInfo>;
  /** A staged part's bytes. BLOB_NOT_FOUND when it is not staged. */
  readPart(upload: string, part: string): Promise<Readable>;
  /**
   * Makes one blob of the named staged parts, in that order (a part may be named more than once),
   * as `put` would of their concatenation: hashed, atomic, idempotent; the parts stay staged until
   * `deleteUpload`. BLOB_NOT_FOUND when a part is not staged; ARTIFACT_TOO_LARGE past maxBytes.
   */
  commitUpload(upload: string, parts: string[], opts?: PutOptions): Promise<BlobInfo>;
  /** Drops every staged part of the upload. Idempotent. */
  deleteUpload(upload: string): Promise<void>;
}
