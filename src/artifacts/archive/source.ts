// Opens an archive (a file path or a stream) and tells its format from its first bytes, never from
// a file name. A zip needs random access, so a zip arriving as a stream is spooled to a private
// temporary file first, bounded by maxArchiveBytes. zstd, xz and bzip2 are recognised and refused:
// Node 20 has no zstd, and decoding hostile bytes with an external program is not worth it here.
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { finished } from "node:stream/promises";
import type { ArchiveLimits } from "./limits.js";
import { ArchiveRule, reject } from "./reject.js";
import type { ArchiveFormat, ArchiveSource } from "./types.js";

const SNIFF = 512;

export interface OpenedSource {
  format: ArchiveFormat;
  /** Zip: a file to open with random access. */
  path?: string;
  /** Zip: its size in bytes. */
  size?: number;
  /** Tar: the (possibly gzip-compressed) bytes. */
  stream?: Readable;
  close(): Promise<void>;
}

export function sniff(head: Buffer): ArchiveFormat {
  const starts = (...bytes: number[]): boolean => bytes.every((b, i) => head[i] === b);
  if (starts(0x50, 0x4b, 0x03, 0x04) || starts(0x50, 0x4b, 0x05, 0x06)) return "zip";
  if (starts(0x1f, 0x8b)) return "tar.gz";
  if (starts(0x28, 0xb5, 0x2f, 0xfd)) {
    reject("", ArchiveRule.FORMAT, "zstd-compressed archives are not supported (use gzip)");
  }
  if (starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00))
    reject("", ArchiveRule.FORMAT, "xz-compressed archives are not supported");
  if (starts(0x42, 0x5a, 0x68)) reject("", ArchiveRule.FORMAT, "bzip2-compressed archives are not supported");
  if (head.subarray(257, 262).toString("latin1") === "ustar") return "tar";
  return reject("", ArchiveRule.FORMAT, "not a zip, tar or tar.gz archive");
}

export async function openSource(source: ArchiveSource, limits: ArchiveLimits): Promise<OpenedSource> {
  if (typeof source === "string") return openPath(source);
  return openStream(source, limits);
}

async function openPath(path: string): Promise<OpenedSource> {
  const fh = await open(path, "r");
  let head: Buffer;
  let size: number;
  try {
    size = (await fh.stat()).size;
    const buf = Buffer.alloc(SNIFF);
    const { bytesRead } = await fh.read(buf, 0, SNIFF, 0);
    head = buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
  const format = sniff(head);
  if (format === "zip") return { format, path, size, close: () => Promise.resolve() };
  const stream = createReadStream(path);
  return { format, stream, close: () => Promise.resolve(void stream.destroy()) };
}

async function openStream(input: Readable, limits: ArchiveLimits): Promise<OpenedSource> {
  const it = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const head: Buffer[] = [];
  let have = 0;
  while (have < SNIFF) {
    const next = await it.next();
    if (next.done === true) break;
    head.push(next.value);
    have += next.value.length;
  }
  let format: ArchiveFormat;
  try {
    format = sniff(Buffer.concat(head));
  } catch (err) {
    input.destroy();
    throw err;
  }
  async function* rest(): AsyncGenerator<Buffer> {
    yield* head;
    for (;;) {
      const next = await it.next();
      if (next.done === true) return;
      yield next.value;
    }
  }
  if (format !== "zip") {
    const stream = Readable.from(rest(), { objectMode: false });
    return { format, stream, close: () => Promise.resolve(void input.destroy()) };
  }
  const dir = await mkdtemp(join(tmpdir(), "airlock-zip-"));
  const path = join(dir, "archive.zip");
  const cleanup = async (): Promise<void> => {
    input.destroy();
    await rm(dir, { recursive: true, force: true });
  };
  const out = createWriteStream(path, { mode: 0o600, flags: "wx" });
  try {
    let size = 0;
    for await (const chunk of rest()) {
      size += chunk.length;
      if (size > limits.maxArchiveBytes) {
        reject(
          "",
          ArchiveRule.ARCHIVE_TOO_LARGE,
          `the archive is larger than ${limits.maxArchiveBytes} bytes`,
        );
      }
      if (!out.write(chunk)) await new Promise<void>((r) => out.once("drain", () => r()));
    }
    out.end();
    await finished(out);
    return { format, path, size, close: cleanup };
  } catch (err) {
    out.destroy();
    await cleanup();
    throw err;
  }
}
