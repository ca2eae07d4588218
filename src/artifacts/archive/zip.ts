// Reads a zip with yauzl, but keeps every decision here: names are decoded by us (yauzl's own name
// checks and size checks are off, so each rule below is ours and is tested), entry types come from
// the Unix mode when the archive has one, and the byte layout (overlapping entries, the trick behind
// non-recursive zip bombs; local headers that disagree; unlisted bytes) is checked before anything
// is inflated (zip-layout.ts).
import { promisify } from "node:util";
import yauzl, { type Entry, type ZipFile } from "yauzl";
import type { ArchiveLimits } from "./limits.js";
import { ArchiveRule, corrupt, reject, rejection } from "./reject.js";
import type { RawEntry } from "./types.js";
import { checkLayout } from "./zip-layout.js";

const openZip = promisify<string, yauzl.Options, ZipFile>(yauzl.open);

const UNIX_KINDS = new Map<number, string>([
  [0o100000, "file"],
  [0o040000, "directory"],
  [0o120000, "symlink"],
  [0o020000, "character-device"],
  [0o060000, "block-device"],
  [0o010000, "fifo"],
  [0o140000, "socket"],
]);
const HOST_UNIX = 3;
const HOST_DARWIN = 19;
const utf8 = new TextDecoder("utf-8", { fatal: true });

export async function* readZip(path: string, limits: ArchiveLimits): AsyncGenerator<RawEntry> {
  let zip: ZipFile;
  try {
    zip = await openZip(path, {
      lazyEntries: true,
      autoClose: false,
      decodeStrings: false,
      validateEntrySizes: false,
    });
  } catch (err) {
    return reject("", ArchiveRule.CORRUPT, `not a readable zip: ${(err as Error).message}`, err);
  }
  try {
    if (zip.entryCount > limits.maxEntries) {
      reject(
        "",
        ArchiveRule.TOO_MANY_ENTRIES,
        `the zip declares ${zip.entryCount} entries (limit ${limits.maxEntries})`,
      );
    }
    // Before any entry is read, yauzl's cursor is where the central directory starts.
    const directoryOffset = (zip as unknown as { readEntryCursor: number }).readEntryCursor;
    const entries = await readAll(zip, limits);
    await checkLayout(zip, entries, directoryOffset, nameOf);
    for (const e of entries) yield toRaw(zip, e);
  } finally {
    zip.close();
  }
}

/**
 * The whole central directory, held in memory so overlaps can be found before inflating: names
 * longer than maxPathBytes are refused on sight and each entry's extra fields and comment (up to
 * 64 KiB each, unused from here on) are dropped, so memory is bounded by maxEntries × maxPathBytes.
 */
function readAll(zip: ZipFile, limits: ArchiveLimits): Promise<Entry[]> {
  return new Promise((resolve, fail) => {
    const entries: Entry[] = [];
    zip.on("entry", (e: Entry) => {
      if (e.fileNameRaw.length > limits.maxPathBytes) {
        const name = e.fileNameRaw.subarray(0, 100).toString("latin1");
        fail(
          rejection(name, ArchiveRule.PATH_TOO_LONG, `the name is longer than ${limits.maxPathBytes} bytes`),
        );
        return;
      }
      const slim = e as Partial<Pick<Entry, "extraFieldRaw" | "extraFields" | "fileCommentRaw" | "comment">>;
      delete slim.extraFieldRaw;
      delete slim.extraFields;
      delete slim.fileCommentRaw;
      delete slim.comment;
      entries.push(e);
      zip.readEntry();
    });
    zip.on("end", () => resolve(entries));
    zip.on("error", (err: Error) => fail(corrupt(err)));
    zip.readEntry();
  });
}

function toRaw(zip: ZipFile, e: Entry): RawEntry {
  const name = nameOf(e);
  if (e.isEncrypted()) reject(name, ArchiveRule.ENCRYPTED, "encrypted entries are not supported");
  if (e.compressionMethod !== 0 && e.compressionMethod !== 8) {
    reject(
      name,
      ArchiveRule.COMPRESSION_METHOD,
      `compression method ${e.compressionMethod} is not stored or deflate`,
    );
  }
  const host = e.versionMadeBy >> 8;
  const unixMode = host === HOST_UNIX || host === HOST_DARWIN ? e.externalFileAttributes >>> 16 : 0;
  const slash = name.endsWith("/");
  const dosDir = host !== HOST_UNIX && host !== HOST_DARWIN && (e.externalFileAttributes & 0x10) !== 0;
  let kind = slash || dosDir ? "directory" : "file";
  const fmt = unixMode & 0o170000;
  if (fmt !== 0) {
    const unixKind = UNIX_KINDS.get(fmt) ?? `unknown type ${fmt.toString(8)}`;
    if (slash && unixKind !== "directory")
      reject(name, ArchiveRule.CORRUPT, `the name ends in "/" but the mode says ${unixKind}`);
    kind = unixKind;
  }
  return {
    name,
    kind,
    mode: unixMode === 0 ? null : unixMode & 0o7777,
    declaredSize: e.uncompressedSize,
    compressedSize: e.compressedSize,
    crc32: e.crc32,
    body: kind === "directory" ? null : inflate(zip, e, name),
  };
}

async function* inflate(zip: ZipFile, e: Entry, name: string): AsyncGenerator<Buffer> {
  const stream = await new Promise<NodeJS.ReadableStream>((resolve, fail) =>
    zip.openReadStream(e, (err, s) => (err ? fail(corrupt(err, name)) : resolve(s))),
  );
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } catch (err) {
    throw corrupt(err, name);
  }
}

function nameOf(e: Entry): string {
  const raw = e.fileNameRaw;
  try {
    return utf8.decode(raw);
  } catch {
    return reject(raw.toString("latin1"), ArchiveRule.NAME_ENCODING, "the name is not valid UTF-8");
  }
}
