// The local filesystem backend of the blob store. Layout under the root:
//   sha256/ab/abcd…   a blob, named by its digest (mode 0600)
//   sha256/ab/abcd…/  a committed upload: a directory of its staged parts' files, hard-linked, one
//                    segment each (./segments.ts); read as their concatenation
//   tmp/<random>      a blob being written; renamed into place after fsync, removed on failure
//   uploads/<upload>/<part>  staged parts of an upload in progress
// Renaming is atomic, so a reader sees a whole blob or none; the same bytes written twice end as one
// blob (the second rename replaces identical content, or is dropped when the first is a directory).
// Chunks are hashed and written as they arrive. A commit writes no byte again: the parts' files
// become the blob (hashed from the page cache and fsynced), so an upload is written to disk once.
import { createHash, randomBytes } from "node:crypto";
import { mkdir, open, rename, rm, stat, unlink, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import { HashChain } from "./chain.js";
import { linkParts, readSegmented, span, syncPath } from "./segments.js";
import type { BlobInfo, BlobRead, BlobStore, ByteRange, PutOptions, Source } from "./types.js";

const DIGEST = /^[0-9a-f]{64}$/;
const NAME = /^[A-Za-z0-9_-]{1,128}$/;

function checkDigest(sha256: string): void {
  if (!DIGEST.test(sha256))
    throw new AirlockError(ErrorCode.ARTIFACT_INVALID, "a blob digest is 64 hex digits");
}
function checkName(what: string, name: string): void {
  if (!NAME.test(name)) throw new AirlockError(ErrorCode.ARTIFACT_INVALID, `bad ${what} name`);
}
const missing = (err: unknown): boolean => (err as NodeJS.ErrnoException).code === "ENOENT";

/** Uploads whose staged parts are hashed as they come (./chain.ts); past this, commits hash all. */
const MAX_CHAINS = 256;

export class LocalBlobStore implements BlobStore {
  private readonly chains = new Map<string, HashChain>();

  constructor(readonly root: string) {}

  private blobPath(sha256: string): string {
    return join(this.root, "sha256", sha256.slice(0, 2), sha256);
  }
  private partPath(upload: string, part: string): string {
    checkName("upload", upload);
    checkName("part", part);
    return join(this.root, "uploads", upload, part);
  }

  async put(source: Source, opts: PutOptions = {}): Promise<BlobInfo> {
    await mkdir(join(this.root, "tmp"), { recursive: true, mode: 0o700 });
    const tmp = join(this.root, "tmp", randomBytes(16).toString("hex"));
    const info = await writeHashed(tmp, source, opts);
    await this.place(tmp, info);
    return info;
  }

  /** Renames a finished, fsynced blob (file or directory) at `tmp` into place; removes it on failure. */
  private async place(tmp: string, info: BlobInfo): Promise<void> {
    try {
      const dir = join(this.root, "sha256", info.sha256.slice(0, 2));
      await mkdir(dir, { recursive: true, mode: 0o700 });
      try {
        await rename(tmp, this.blobPath(info.sha256));
      } catch (err) {
        // A directory on either side cannot be replaced: the same bytes are there already.
        const code = (err as NodeJS.ErrnoException).code;
        if (!["EISDIR", "ENOTDIR", "ENOTEMPTY", "EEXIST"].includes(code ?? "")) throw err;
        if (!(await this.has(info.sha256))) throw err;
        await rm(tmp, { recursive: true, force: true });
        return;
      }
      await syncPath(dir);
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
  }

  async get(sha256: string, range?: ByteRange): Promise<BlobRead> {
    checkDigest(sha256);
    let fh: FileHandle;
    try {
      fh = await open(this.blobPath(sha256), "r");
    } catch (err) {
      if (missing(err)) throw new AirlockError(ErrorCode.BLOB_NOT_FOUND, `no blob sha256:${sha256}`);
      throw err;
    }
    try {
      const st = await fh.stat();
      if (st.isDirectory()) {
        await fh.close();
        return await readSegmented(this.blobPath(sha256), range);
      }
      const size = st.size;
      const { start, end } = span(size, range);
      if (size === 0) {
        await fh.close();
        return { stream: Readable.from([]), size, start: 0, end: -1 };
      }
      return { stream: fh.createReadStream({ start, end, highWaterMark: READ_CHUNK }), size, start, end };
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw err;
    }
  }

  async has(sha256: string): Promise<boolean> {
    checkDigest(sha256);
    return stat(this.blobPath(sha256)).then(
      () => true,
      (err: unknown) => (missing(err) ? false : Promise.reject(err as Error)),
    );
  }

  async delete(sha256: string): Promise<boolean> {
    checkDigest(sha256);
    const path = this.blobPath(sha256);
    try {
      await unlink(path);
      return true;
    } catch (err) {
      if (missing(err)) return false;
      if ((err as NodeJS.ErrnoException).code !== "EISDIR") throw err;
    }
    // A segmented blob: gone from its name at once, then its files.
    await mkdir(join(this.root, "tmp"), { recursive: true, mode: 0o700 });
    const aside = join(this.root, "tmp", `deleted-${randomBytes(16).toString("hex")}`);
    try {
      await rename(path, aside);
    } catch (err) {
      if (missing(err)) return false;
      throw err;
    }
    await rm(aside, { recursive: true, force: true });
    return true;
  }

  async putPart(upload: string, part: string, source: Source, opts: PutOptions = {}): Promise<BlobInfo> {
    const path = this.partPath(upload, part);
    await mkdir(join(this.root, "uploads", upload), { recursive: true, mode: 0o700 });
    const tmp = `${path}.${randomBytes(8).toString("hex")}.tmp`;
    let chain = this.chains.get(upload);
    if (!chain && this.chains.size < MAX_CHAINS) this.chains.set(upload, (chain = new HashChain()));
    const slot = chain?.reserve(part);
    // Fsynced now, while the client still sends other blocks: the commit, which makes these files
    // the blob and fsyncs them again for its durability, then finds nothing left to write.
    try {
      const info = await writeHashed(tmp, source, opts);
      await rename(tmp, path).catch(async (err: unknown) => {
        await rm(tmp, { force: true });
        throw err;
      });
      slot?.staged(path);
      return info;
    } finally {
      slot?.failed();
    }
  }

  async readPart(upload: string, part: string): Promise<Readable> {
    try {
      const fh = await open(this.partPath(upload, part), "r");
      return fh.createReadStream();
    } catch (err) {
      if (missing(err)) throw new AirlockError(ErrorCode.BLOB_NOT_FOUND, `block ${part} is not staged`);
      throw err;
    }
  }

  async commitUpload(upload: string, parts: string[], opts: PutOptions = {}): Promise<BlobInfo> {
    const paths = parts.map((p) => this.partPath(upload, p));
    await mkdir(join(this.root, "tmp"), { recursive: true, mode: 0o700 });
    const tmp = join(this.root, "tmp", randomBytes(16).toString("hex"));
    const work = `${tmp}.parts`;
    try {
      const chain = this.chains.get(upload);
      const linked = await linkParts(
        work,
        tmp,
        paths,
        parts,
        opts,
        chain && ((ids) => chain.prefix(parts, ids)),
      );
      if (linked.kind === "copy") {
        const files = linked.files;
        async function* concatenated(): AsyncGenerator<Uint8Array> {
          for (const f of files)
            for await (const chunk of (await open(f, "r")).createReadStream({ highWaterMark: READ_CHUNK }))
              yield chunk as Uint8Array;
        }
        return await this.put(Readable.from(concatenated()), opts);
      }
      await this.place(tmp, linked.info);
      return linked.info;
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  async deleteUpload(upload: string): Promise<void> {
    checkName("upload", upload);
    this.chains.delete(upload);
    await rm(join(this.root, "uploads", upload), { recursive: true, force: true });
  }
}

/** Bytes per read of a blob (64 KiB, the stream default, costs a system call and a chunk per 64 KiB). */
const READ_CHUNK = 1024 * 1024;

/** Bytes gathered before one write: network chunks are small, a system call per chunk is slow. */
const WRITE_BATCH = 1024 * 1024;
/** Chunks gathered at most before one write (writev takes at most IOV_MAX = 1024 buffers). */
const WRITE_CHUNKS = 512;

/** Writes all of `bufs` at the file's position, as one writev when the kernel takes it whole. */
async function writeAll(fh: FileHandle, bufs: Buffer[], length: number): Promise<void> {
  const { bytesWritten } = await fh.writev(bufs);
  if (bytesWritten === length) return;
  const rest = Buffer.concat(bufs, length).subarray(bytesWritten);
  let off = 0;
  while (off < rest.byteLength) off += (await fh.write(rest, off)).bytesWritten;
}

/**
 * Writes `source` to a new file at `path` (0600), hashing as it goes, and fsyncs it;
 * removes it on failure. One batch is written while the next is gathered (the network is not held
 * up by the disk, and at most two batches are in memory).
 */
async function writeHashed(path: string, source: Source, opts: PutOptions): Promise<BlobInfo> {
  const hash = createHash("sha256");
  let size = 0;
  const fh = await open(path, "wx", 0o600);
  let batch: Buffer[] = [];
  let batched = 0;
  let writing: Promise<void> = Promise.resolve();
  const flush = async (): Promise<void> => {
    if (batched === 0) return;
    const bufs = batch;
    const length = batched;
    batch = [];
    batched = 0;
    await writing;
    writing = writeAll(fh, bufs, length);
    // Its failure is seen at the next flush or at the end; never unhandled meanwhile.
    writing.catch(() => undefined);
  };
  try {
    for await (const chunk of source) {
      const c = chunk as Uint8Array | string;
      const bytes =
        typeof c === "string"
          ? Buffer.from(c)
          : Buffer.isBuffer(c)
            ? c
            : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
      size += bytes.byteLength;
      if (opts.maxBytes !== undefined && size > opts.maxBytes)
        throw new AirlockError(ErrorCode.ARTIFACT_TOO_LARGE, `more than ${opts.maxBytes} bytes`);
      hash.update(bytes);
      batch.push(bytes);
      batched += bytes.byteLength;
      if (batched >= WRITE_BATCH || batch.length >= WRITE_CHUNKS) await flush();
    }
    await flush();
    await writing;
    await fh.sync();
    await fh.close();
  } catch (err) {
    await writing.catch(() => undefined);
    await fh.close().catch(() => undefined);
    await rm(path, { force: true });
    throw err;
  }
  return { sha256: hash.digest("hex"), size };
}
