// Segmented blobs of the local store: a committed upload whose staged parts become the blob without
// their bytes being written a second time. The parts' files are hard-linked (never copied) into a
// new directory, one file per segment named by its start offset (16 decimal digits, so names sort
// by offset), every byte is hashed (read back from the page cache, except the leading parts
// ./chain.ts hashed while they were staged), each segment file and the directory are fsynced,
// and the directory is renamed into place as `sha256/ab/abcd…`: atomic as a whole-file blob's
// rename. A staged part's file is never written after it is renamed into place (putPart writes
// a new file and renames it over), so a link keeps exactly the bytes hashed.
// One non-empty part becomes a plain whole-file blob the same way (one link, no directory).
import { createHash, type Hash } from "node:crypto";
import { link, mkdir, open, readdir, rename, stat, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import type { FileId } from "./chain.js";
import type { BlobInfo, BlobRead, ByteRange, PutOptions } from "./types.js";

/** A segment file's name: its start offset in the blob. */
const SEGMENT = /^\d{16}$/;
const segmentName = (offset: number): string => String(offset).padStart(16, "0");
/** Bytes per read when hashing or streaming a segment. */
const READ_CHUNK = 1024 * 1024;
/** Segment files fsynced at once (libuv's thread pool has 4 threads). */
const SYNC_AHEAD = 4;

const missing = (err: unknown): boolean => (err as NodeJS.ErrnoException).code === "ENOENT";

/** Below this average part size a commit copies instead (a blob is not left as thousands of files). */
export const MIN_SEGMENT_BYTES = 1024 * 1024;

/** The digest's state after the first `count` parts, when they are the files `ids` (./chain.ts). */
export type Resume = (ids: FileId[]) => Promise<{ count: number; hash: Hash } | undefined>;

export type Linked = { kind: "copy"; files: string[] } | { kind: "blob"; info: BlobInfo };

/**
 * Hard-links the staged `parts` (paths, in blob order; `names` for errors) under `work`, then
 * either lays them out at `final` — a plain file when at most one is non-empty, else a directory
 * of segments — hashing every byte (after the leading parts `resume` vouches for) and fsyncing
 * what it made ("blob"), or, when the parts are small on average, hands back the links in order
 * for the caller to copy ("copy"). Refuses past
 * maxBytes; BLOB_NOT_FOUND when a part is not staged. The caller removes `work` and `final` on
 * failure, renames `final` into place on success and removes `work` either way.
 */
export async function linkParts(
  work: string,
  final: string,
  parts: string[],
  names: string[],
  opts: PutOptions,
  resume?: Resume,
): Promise<Linked> {
  await mkdir(work, { mode: 0o700 });
  const links: Array<{ path: string; size: number; id: FileId }> = [];
  let total = 0;
  for (const [i, part] of parts.entries()) {
    const path = join(work, `l${i}`);
    await link(part, path).catch((err: unknown) => {
      if (missing(err)) throw new AirlockError(ErrorCode.BLOB_NOT_FOUND, `block ${names[i]} is not staged`);
      throw err;
    });
    // The link's size, not the part name's: a part staged again meanwhile is another file.
    const st = await stat(path, { bigint: true });
    const size = Number(st.size);
    links.push({ path, size, id: { ino: st.ino, mtimeNs: st.mtimeNs, size: st.size } });
    total += size;
    if (opts.maxBytes !== undefined && total > opts.maxBytes)
      throw new AirlockError(ErrorCode.ARTIFACT_TOO_LARGE, `more than ${opts.maxBytes} bytes`);
  }
  const used = links.map((l, i) => ({ ...l, i })).filter((l) => l.size > 0);
  if (used.length > 1 && total < used.length * MIN_SEGMENT_BYTES)
    return { kind: "copy", files: links.map((l) => l.path) };
  const files: Array<{ path: string; i: number; size: number }> = [];
  if (used.length === 1) {
    await rename(used[0]!.path, final);
    files.push({ path: final, i: used[0]!.i, size: used[0]!.size });
  } else {
    await mkdir(final, { mode: 0o700 });
    let offset = 0;
    for (const l of used) {
      const file = join(final, segmentName(offset));
      await rename(l.path, file);
      files.push({ path: file, i: l.i, size: l.size });
      offset += l.size;
    }
    if (used.length === 0) await (await open(join(final, segmentName(0)), "wx", 0o600)).close();
  }
  // The parts hashed already while they were staged (./chain.ts), when they are these very files.
  const done = await resume?.(links.map((l) => l.id));
  const hash = done?.hash ?? createHash("sha256");
  const skip = done?.count ?? 0;
  const syncing: Array<Promise<void>> = [];
  const buf = Buffer.allocUnsafe(READ_CHUNK);
  for (const file of files) {
    const fh = await open(file.path, "r");
    try {
      let read = 0;
      while (file.i >= skip) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, null);
        if (bytesRead === 0) break;
        read += bytesRead;
        hash.update(buf.subarray(0, bytesRead));
      }
      if (file.i >= skip && read !== file.size) throw new Error("a staged part changed size while committed");
    } catch (err) {
      await fh.close();
      await Promise.allSettled(syncing);
      throw err;
    }
    // The blob's durability: each file fsynced (cheap: putPart fsynced it), while hashing goes on.
    const synced = fh.sync().finally(() => fh.close());
    synced.catch(() => undefined); // seen when awaited below; never unhandled if another fails first
    syncing.push(synced);
    if (syncing.length >= SYNC_AHEAD) await syncing.shift();
  }
  await Promise.all(syncing);
  if (used.length !== 1) await syncPath(final);
  return { kind: "blob", info: { sha256: hash.digest("hex"), size: total } };
}

export async function syncPath(path: string): Promise<void> {
  const fh = await open(path, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** The bytes a range asks of a blob of `size` (RANGE_NOT_SATISFIABLE outside it). */
export function span(size: number, range?: ByteRange): { start: number; end: number } {
  const start = range?.start ?? 0;
  const end = Math.min(range?.end ?? size - 1, size - 1);
  if (range && (start < 0 || start >= size || end < start)) {
    throw new AirlockError(
      ErrorCode.RANGE_NOT_SATISFIABLE,
      `range ${start}- is outside the blob's ${size} bytes`,
    );
  }
  return { start, end };
}

/** A segmented blob (or a range of it) as one stream; BLOB_NOT_FOUND when the directory is gone. */
export async function readSegmented(dir: string, range?: ByteRange): Promise<BlobRead> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => SEGMENT.test(n)).sort();
  } catch (err) {
    if (missing(err)) throw new AirlockError(ErrorCode.BLOB_NOT_FOUND, "no such blob");
    throw err;
  }
  const offsets = names.map(Number);
  const lastName = names.at(-1);
  if (lastName === undefined) throw new AirlockError(ErrorCode.BLOB_NOT_FOUND, "no such blob");
  // The first segment is opened now, so a blob removed before this returns is BLOB_NOT_FOUND.
  let first: FileHandle;
  try {
    first = await open(join(dir, names[0]!), "r");
  } catch (err) {
    if (missing(err)) throw new AirlockError(ErrorCode.BLOB_NOT_FOUND, "no such blob");
    throw err;
  }
  try {
    const size = offsets.at(-1)! + (await stat(join(dir, lastName))).size;
    const { start, end } = span(size, range);
    if (size === 0) {
      await first.close();
      return { stream: Readable.from([]), size, start: 0, end: -1 };
    }
    const stream = Readable.from(segmentBytes(dir, names, offsets, size, start, end, first), {
      objectMode: false,
    });
    return { stream, size, start, end };
  } catch (err) {
    await first.close();
    throw err;
  }
}

async function* segmentBytes(
  dir: string,
  names: string[],
  offsets: number[],
  size: number,
  start: number,
  end: number,
  first: FileHandle,
): AsyncGenerator<Buffer> {
  let fh: FileHandle | undefined;
  let firstOpen = true;
  const closeFirst = async (): Promise<void> => {
    if (firstOpen) await first.close();
    firstOpen = false;
  };
  try {
    for (const [i, name] of names.entries()) {
      const segStart = offsets[i]!;
      const segEnd = (offsets[i + 1] ?? size) - 1;
      if (segEnd < start || segStart > end) {
        if (i === 0) await closeFirst();
        continue;
      }
      if (i === 0) {
        fh = first;
        firstOpen = false;
      } else fh = await open(join(dir, name), "r");
      let pos = Math.max(start, segStart) - segStart;
      const to = Math.min(end, segEnd) - segStart;
      while (pos <= to) {
        const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, to - pos + 1));
        const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
        if (bytesRead === 0) throw new Error(`segment ${name} of a blob is shorter than its place`);
        pos += bytesRead;
        yield buf.subarray(0, bytesRead);
      }
      const done = fh;
      fh = undefined;
      await done.close();
    }
  } finally {
    await closeFirst();
    await fh?.close();
  }
}
