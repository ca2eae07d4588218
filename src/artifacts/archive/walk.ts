// The one pass every consumer (inspect, extract, diff) makes over an archive: opens it, reads raw
// entries from the zip or tar reader, checks each name, type and mode, and hands out the content
// through a counter that enforces sizes, ratio, CRC and declared-vs-actual on the real bytes.
// Content a consumer does not read is drained and checked all the same; links are checked when
// the whole archive is known. A consumer that gets to the end has seen a valid archive.
import { crc32 } from "node:zlib";
import { Budget, checkRatio, type ArchiveLimits } from "./limits.js";
import { checkMode, normalizeEntryPath } from "./paths.js";
import { ArchiveRule, corrupt, reject } from "./reject.js";
import { openSource } from "./source.js";
import { ByteCounter, readTar } from "./tar.js";
import { Tree } from "./tree.js";
import type { ArchiveEntry, ArchiveSource, EntryType, RawEntry } from "./types.js";
import { readZip } from "./zip.js";

export interface WalkedEntry {
  entry: ArchiveEntry;
  /** Files only: the content, to be read to its end (or not at all). */
  body: AsyncIterable<Buffer> | null;
}

const KINDS: Record<string, EntryType> = {
  file: "file",
  directory: "directory",
  symlink: "symlink",
  link: "hardlink",
};

export async function* walkArchive(
  source: ArchiveSource,
  limits: ArchiveLimits,
): AsyncGenerator<WalkedEntry> {
  const opened = await openSource(source, limits);
  try {
    let raws: AsyncGenerator<RawEntry>;
    let budget: Budget;
    if (opened.format === "zip") {
      const size = opened.size ?? 0;
      raws = readZip(opened.path ?? "", limits);
      budget = new Budget(limits, () => size);
    } else {
      const counter = new ByteCounter();
      raws = readTar(opened.stream!, opened.format === "tar.gz", counter);
      budget = new Budget(limits, opened.format === "tar.gz" ? () => counter.bytes : undefined);
    }
    const tree = new Tree(limits);
    for await (const raw of raws) {
      budget.addEntry(raw.name);
      const { entry, body } = await checkEntry(raw, budget, limits);
      if (entry.path === "") {
        await body.drain(); // the archive's own root ("./"): nothing to create
        continue;
      }
      tree.add(raw.name, entry.path, entry.type, entry.linkTarget);
      yield { entry, body: entry.type === "file" ? body.iterate() : null };
      await body.drain();
    }
    tree.finish();
  } finally {
    await opened.close();
  }
}

async function checkEntry(
  raw: RawEntry,
  budget: Budget,
  limits: ArchiveLimits,
): Promise<{ entry: ArchiveEntry; body: Body }> {
  const type = KINDS[raw.kind];
  if (type === undefined) reject(raw.name, ArchiveRule.SPECIAL_FILE, `${raw.kind} entries are not allowed`);
  const path = normalizeEntryPath(raw.name, limits);
  if (path === "" && type !== "directory") reject(raw.name, ArchiveRule.EMPTY_PATH, "the name has no path");
  const mode = checkMode(raw.name, raw.mode, type === "directory" ? 0o755 : 0o644);
  if (raw.declaredSize > limits.maxEntryBytes) {
    reject(
      raw.name,
      ArchiveRule.ENTRY_TOO_LARGE,
      `declares ${raw.declaredSize} bytes (limit ${limits.maxEntryBytes})`,
    );
  }
  const carriesTarget = type === "symlink" && raw.linkName === undefined;
  if (type !== "file" && !carriesTarget && raw.declaredSize !== 0) {
    reject(
      raw.name,
      ArchiveRule.SIZE_MISMATCH,
      `a ${type} entry declares ${raw.declaredSize} bytes of content`,
    );
  }
  const body = new Body(raw, budget, limits);
  const entry: ArchiveEntry = { path, type, size: type === "file" ? raw.declaredSize : 0, mode };
  if (type === "symlink") {
    const target = carriesTarget ? await body.text(limits.maxPathBytes) : (raw.linkName ?? "");
    entry.linkTarget = checkLinkTarget(raw.name, target, limits);
  } else if (type === "hardlink") {
    entry.linkTarget = normalizeEntryPath(raw.linkName ?? "", limits, raw.name);
  }
  return { entry, body };
}

function checkLinkTarget(name: string, target: string, limits: ArchiveLimits): string {
  if (target === "") reject(name, ArchiveRule.SYMLINK_ESCAPE, "the link target is empty");
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(target))
    reject(name, ArchiveRule.CONTROL_CHARACTER, "the link target holds a control character");
  if (target.includes("\\")) reject(name, ArchiveRule.BACKSLASH, "the link target holds a backslash");
  if (target.startsWith("/") || /^[A-Za-z]:/.test(target))
    reject(name, ArchiveRule.SYMLINK_ESCAPE, "the link target is absolute");
  if (Buffer.byteLength(target) > limits.maxPathBytes)
    reject(name, ArchiveRule.PATH_TOO_LONG, "the link target is too long");
  return target;
}

/** An entry's content, counted: every limit is held to the bytes as they arrive. */
class Body {
  private started = false;
  private done = false;
  private readonly gen: AsyncGenerator<Buffer>;

  constructor(
    private readonly raw: RawEntry,
    private readonly budget: Budget,
    private readonly limits: ArchiveLimits,
  ) {
    this.gen = this.count();
  }

  /** The content, to be iterated at most once; not iterating is fine (the walk drains it). */
  iterate(): AsyncIterable<Buffer> {
    return {
      [Symbol.asyncIterator]: () => {
        if (this.started) throw new Error("an archive entry's content is read once");
        this.started = true;
        return this.gen;
      },
    };
  }

  async drain(): Promise<void> {
    if (this.done) return;
    if (this.started) throw new Error("an archive entry's content was left half read");
    this.started = true;
    for await (const chunk of this.gen) void chunk;
  }

  async text(max: number): Promise<string> {
    const parts: Buffer[] = [];
    let n = 0;
    for await (const chunk of this.iterate()) {
      n += chunk.length;
      if (n > max) reject(this.raw.name, ArchiveRule.PATH_TOO_LONG, "the link target is too long");
      parts.push(chunk);
    }
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(parts));
    } catch {
      return reject(this.raw.name, ArchiveRule.NAME_ENCODING, "the link target is not valid UTF-8");
    }
  }

  private async *count(): AsyncGenerator<Buffer> {
    const { raw, limits, budget } = this;
    let n = 0;
    let crc = 0;
    try {
      for await (const chunk of raw.body ?? []) {
        n += chunk.length;
        if (n > raw.declaredSize)
          reject(
            raw.name,
            ArchiveRule.SIZE_MISMATCH,
            `holds more than the ${raw.declaredSize} bytes it declares`,
          );
        if (n > limits.maxEntryBytes)
          reject(raw.name, ArchiveRule.ENTRY_TOO_LARGE, `expands past ${limits.maxEntryBytes} bytes`);
        budget.addBytes(raw.name, chunk.length);
        if (raw.compressedSize !== undefined)
          checkRatio(raw.name, limits, n, raw.compressedSize, "the entry");
        if (raw.crc32 !== undefined) crc = crc32(chunk, crc);
        yield chunk;
      }
    } catch (err) {
      throw corrupt(err, raw.name);
    }
    if (n !== raw.declaredSize)
      reject(raw.name, ArchiveRule.SIZE_MISMATCH, `holds ${n} bytes but declares ${raw.declaredSize}`);
    if (raw.crc32 !== undefined && crc >>> 0 !== raw.crc32 >>> 0)
      reject(raw.name, ArchiveRule.CRC_MISMATCH, "the content does not match its CRC-32");
    this.done = true;
  }
}
