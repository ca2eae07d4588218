// The S3-compatible backend of the blob store (issue 13, item 1). Keys under the bucket's prefix:
//   sha256/ab/abcd…          a blob, named by its digest
//   tmp/<random>             a blob being written; copied to its digest key once hashed, then deleted
//   uploads/<upload>/<part>  staged parts of an upload in progress
// A put streams to a temporary key (a multipart upload through lib-storage: a few parts in memory,
// never the whole blob) while hashing; CopyObject then makes it visible under its digest at once
// (S3 shows a whole object or none). An aborted or refused put aborts its multipart
// upload and deletes the temporary key. A crash mid-put can leave a tmp/ object or an incomplete
// multipart upload: a bucket lifecycle rule on tmp/ clears them (docs/integrity.md).
import { randomBytes } from "node:crypto";
import type { Readable } from "node:stream";
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type S3Client,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import { copyLarge, copySource } from "./s3-copy.js";
import { hashedBody, isMissing, statusOf, storeError } from "./s3-io.js";
import { checkDigest, checkName } from "./names.js";
import type { BlobInfo, BlobRead, BlobStore, ByteRange, PutOptions, Source } from "./types.js";

export interface S3BlobStoreOptions {
  client: S3Client;
  bucket: string;
  /** Put before every key: "" or ending in "/" (e.g. "airlock/artifacts/"). */
  prefix: string;
  /** Multipart part size of uploads (S3's minimum: 5 MiB). */
  partBytes?: number;
  /** Largest object one CopyObject copies (S3: 5 GiB); larger ones are copied in parts. */
  copyLimitBytes?: number;
}

export class S3BlobStore implements BlobStore {
  readonly bucket: string;
  readonly prefix: string;
  private readonly client: S3Client;
  private readonly partBytes: number;
  private readonly copyLimitBytes: number;

  constructor(o: S3BlobStoreOptions) {
    this.client = o.client;
    this.bucket = o.bucket;
    this.prefix = o.prefix;
    this.partBytes = o.partBytes ?? 8 * 1024 * 1024;
    this.copyLimitBytes = o.copyLimitBytes ?? 5 * 1024 ** 3;
  }

  /**
   * Reaches the bucket once (a list of at most one key under the prefix): the endpoint answers,
   * the credentials are taken, the bucket exists and may be listed. At start-up, so that a wrong
   * setting stops the server with one line instead of failing the first upload.
   */
  async check(): Promise<void> {
    await this.call("reach the bucket", () =>
      this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix, MaxKeys: 1 })),
    );
  }

  /** The key of a blob (for operators and tests: where it lives in the bucket). */
  blobKey(sha256: string): string {
    checkDigest(sha256);
    return `${this.prefix}sha256/${sha256.slice(0, 2)}/${sha256}`;
  }
  private partKey(upload: string, part: string): string {
    checkName("upload", upload);
    checkName("part", part);
    return `${this.prefix}uploads/${upload}/${part}`;
  }

  async put(source: Source, opts: PutOptions = {}): Promise<BlobInfo> {
    const tmp = `${this.prefix}tmp/${randomBytes(16).toString("hex")}`;
    try {
      const info = await this.upload(tmp, source, opts);
      const key = this.blobKey(info.sha256);
      // The same bytes again: the blob is there already, identical by its name.
      if ((await this.head(key, "write a blob")) === undefined)
        await this.call<unknown>("write a blob", () =>
          info.size > this.copyLimitBytes
            ? copyLarge(this.client, this.bucket, tmp, key, info.size)
            : this.client.send(
                new CopyObjectCommand({ ...this.at(key), CopySource: copySource(this.bucket, tmp) }),
              ),
        );
      return info;
    } finally {
      // The temporary object goes whatever happened; left behind (the store unreachable), it is
      // garbage that names no blob, for the bucket's lifecycle rule.
      await this.client.send(new DeleteObjectCommand(this.at(tmp))).catch(() => undefined);
    }
  }

  async get(sha256: string, range?: ByteRange): Promise<BlobRead> {
    const key = this.blobKey(sha256);
    const notFound = (): AirlockError =>
      new AirlockError(ErrorCode.BLOB_NOT_FOUND, `no blob sha256:${sha256}`);
    const outside = (size: number): AirlockError =>
      new AirlockError(
        ErrorCode.RANGE_NOT_SATISFIABLE,
        `range ${range?.start}- is outside the blob's ${size} bytes`,
      );
    const sizeOf = async (): Promise<number> => {
      const size = await this.head(key, "read a blob");
      if (size === undefined) throw notFound();
      return size;
    };
    if (range && (range.start < 0 || (range.end !== undefined && range.end < range.start)))
      throw outside(await sizeOf());
    let res;
    try {
      res = await this.client.send(
        new GetObjectCommand({
          ...this.at(key),
          ...(range ? { Range: `bytes=${range.start}-${range.end ?? ""}` } : {}),
        }),
      );
    } catch (err) {
      if (isMissing(err)) throw notFound();
      if (range && statusOf(err) === 416) throw outside(await sizeOf());
      throw storeError(this.bucket, "read a blob", err);
    }
    const stream = res.Body as Readable;
    const length = res.ContentLength ?? 0;
    const got = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(res.ContentRange ?? "");
    if (!range || !got) {
      // No range asked, or the server sent the whole object (as some do for an empty one).
      const whole = !range || (range.start === 0 && (range.end ?? Infinity) >= length - 1);
      if (length > 0 && whole) return { stream, size: length, start: 0, end: length - 1 };
      if (!range) return { stream, size: 0, start: 0, end: -1 };
      stream.destroy();
      if (length === 0) throw outside(0);
      throw storeError(this.bucket, "read a range of a blob (the server ignored the range)", undefined);
    }
    const [start, end, size] = [Number(got[1]), Number(got[2]), Number(got[3])];
    // An empty object answered with "bytes 0-0/0" (s3rver): no byte is there to read.
    if (size === 0) {
      stream.destroy();
      throw outside(0);
    }
    return { stream, size, start, end };
  }

  async has(sha256: string): Promise<boolean> {
    return (await this.head(this.blobKey(sha256), "look up a blob")) !== undefined;
  }

  async delete(sha256: string): Promise<boolean> {
    const key = this.blobKey(sha256);
    // S3 deletes a missing key without a word: ask first, to answer "was it there".
    if ((await this.head(key, "delete a blob")) === undefined) return false;
    await this.call("delete a blob", () => this.client.send(new DeleteObjectCommand(this.at(key))));
    return true;
  }

  async putPart(upload: string, part: string, source: Source, opts: PutOptions = {}): Promise<BlobInfo> {
    // Straight to its key: a completed upload replaces the part at once, a failed one leaves the
    // earlier version (if any) as it was.
    return this.upload(this.partKey(upload, part), source, opts);
  }

  async readPart(upload: string, part: string): Promise<Readable> {
    const key = this.partKey(upload, part);
    try {
      return (await this.client.send(new GetObjectCommand(this.at(key)))).Body as Readable;
    } catch (err) {
      if (isMissing(err)) throw new AirlockError(ErrorCode.BLOB_NOT_FOUND, `block ${part} is not staged`);
      throw storeError(this.bucket, "read a staged part", err);
    }
  }

  async commitUpload(upload: string, parts: string[], opts: PutOptions = {}): Promise<BlobInfo> {
    // The blob's digest needs every byte read once: the parts are streamed in order through put,
    // one part open at a time. (Server-side concatenation would copy without hashing.)
    for (const part of parts) this.partKey(upload, part);
    const readPart = (part: string): Promise<Readable> => this.readPart(upload, part);
    async function* concatenated(): AsyncGenerator<Uint8Array> {
      for (const part of parts) for await (const chunk of await readPart(part)) yield chunk as Uint8Array;
    }
    return this.put(concatenated(), opts);
  }

  async deleteUpload(upload: string): Promise<void> {
    checkName("upload", upload);
    const prefix = `${this.prefix}uploads/${upload}/`;
    let token: string | undefined;
    do {
      const page = await this.call("drop an upload", () =>
        this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
        ),
      );
      const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [o.Key] : []));
      const drop = (k: string): Promise<unknown> => this.client.send(new DeleteObjectCommand(this.at(k)));
      // Eight at a time: DeleteObjects needs a body checksum that some S3-compatible servers refuse.
      for (let i = 0; i < keys.length; i += 8)
        await this.call("drop an upload", () => Promise.all(keys.slice(i, i + 8).map(drop)));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /** Streams `source` to `key`, hashing; a multipart upload is aborted when anything fails. */
  private async upload(key: string, source: Source, opts: PutOptions): Promise<BlobInfo> {
    const hashed = hashedBody(source, opts);
    const up = new Upload({
      client: this.client,
      params: { ...this.at(key), Body: hashed.body },
      partSize: this.partBytes,
      queueSize: 2,
      leavePartsOnError: false,
    });
    try {
      await up.done();
    } catch (err) {
      hashed.body.destroy();
      const failure = hashed.failure();
      if (failure !== undefined) throw failure as Error;
      throw storeError(this.bucket, "write a blob", err);
    }
    return hashed.info();
  }

  /** The object's size; undefined when there is none. */
  private async head(key: string, what: string): Promise<number | undefined> {
    try {
      return (await this.client.send(new HeadObjectCommand(this.at(key)))).ContentLength ?? 0;
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw storeError(this.bucket, what, err);
    }
  }

  private at(key: string): { Bucket: string; Key: string } {
    return { Bucket: this.bucket, Key: key };
  }

  /** One call; any failure becomes BLOB_STORE_UNAVAILABLE naming `what`. */
  private async call<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      throw storeError(this.bucket, what, err);
    }
  }
}
