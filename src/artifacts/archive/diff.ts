// What differs between two archives (the corroboration report for two builds that should match):
// the entries only one side has, the entries whose type, mode, size, link target or content differ
// (content compared by SHA-256 from one streaming pass per archive), and, for the first differing
// file in path order, the offset of its first differing byte and a few bytes from each side in
// hex. Memory stays bounded: the listings (bounded by maxEntries) and a few chunks, never a file.
import { createHash } from "node:crypto";
import { resolveLimits, type ArchiveLimits } from "./limits.js";
import type { ArchiveEntry } from "./types.js";
import { walkArchive } from "./walk.js";

export interface EntrySummary extends ArchiveEntry {
  /** Files: SHA-256 of the content, hex. */
  sha256?: string;
}

export interface ArchiveDiff {
  identical: boolean;
  onlyInA: string[];
  onlyInB: string[];
  /** Present in both, different in type, mode, size, link target or content; sorted by path. */
  changed: { path: string; a: EntrySummary; b: EntrySummary }[];
  /** The first changed regular file (by path) whose content differs. */
  firstDifference?: FirstDifference;
}

export interface FirstDifference {
  path: string;
  /** Offset of the first byte that differs (or where the shorter side ends). */
  offset: number;
  /** Up to `CONTEXT` bytes from each side starting at `offset`, hex ("" past the end). */
  a: string;
  b: string;
}

const CONTEXT = 16;

/** Both archives must be files (they are read twice). Throws ARCHIVE_REJECTED if either is unsafe. */
export async function diffArchives(
  a: string,
  b: string,
  limits: Partial<ArchiveLimits> = {},
): Promise<ArchiveDiff> {
  const lim = resolveLimits(limits);
  const left = await summarize(a, lim);
  const right = await summarize(b, lim);
  const onlyInA = [...left.keys()].filter((p) => !right.has(p)).sort();
  const onlyInB = [...right.keys()].filter((p) => !left.has(p)).sort();
  const changed: ArchiveDiff["changed"] = [];
  for (const path of [...left.keys()].sort()) {
    const x = left.get(path)!;
    const y = right.get(path);
    if (y !== undefined && !same(x, y)) changed.push({ path, a: x, b: y });
  }
  const first = changed.find((c) => c.a.type === "file" && c.b.type === "file" && c.a.sha256 !== c.b.sha256);
  const firstDifference = first === undefined ? undefined : await locate(a, b, first.path, lim);
  const identical = onlyInA.length === 0 && onlyInB.length === 0 && changed.length === 0;
  return { identical, onlyInA, onlyInB, changed, ...(firstDifference ? { firstDifference } : {}) };
}

function same(x: EntrySummary, y: EntrySummary): boolean {
  return (
    x.type === y.type &&
    x.mode === y.mode &&
    x.size === y.size &&
    x.linkTarget === y.linkTarget &&
    x.sha256 === y.sha256
  );
}

async function summarize(source: string, limits: ArchiveLimits): Promise<Map<string, EntrySummary>> {
  const out = new Map<string, EntrySummary>();
  for await (const { entry, body } of walkArchive(source, limits)) {
    const summary: EntrySummary = { ...entry };
    if (body !== null) {
      const hash = createHash("sha256");
      for await (const chunk of body) hash.update(chunk);
      summary.sha256 = hash.digest("hex");
    }
    out.set(entry.path, summary);
  }
  return out;
}

/** The content of one entry, streamed; the walk stops once it is read. */
async function* contentOf(source: string, path: string, limits: ArchiveLimits): AsyncGenerator<Buffer> {
  for await (const { entry, body } of walkArchive(source, limits)) {
    if (entry.path === path && body !== null) {
      yield* body;
      return;
    }
  }
}

/** Pulls bytes from a chunk stream on demand, keeping at most one chunk. */
class Cursor {
  private buf: Buffer = Buffer.alloc(0);
  private ended = false;
  constructor(private readonly it: AsyncIterator<Buffer>) {}

  async peek(): Promise<Buffer> {
    while (this.buf.length === 0 && !this.ended) {
      const next = await this.it.next();
      if (next.done === true) this.ended = true;
      else this.buf = next.value;
    }
    return this.buf;
  }

  skip(n: number): void {
    this.buf = this.buf.subarray(n);
  }

  async take(n: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    let have = 0;
    while (have < n) {
      const b = await this.peek();
      if (b.length === 0) break;
      const part = b.subarray(0, n - have);
      parts.push(part);
      have += part.length;
      this.skip(part.length);
    }
    return Buffer.concat(parts);
  }

  async close(): Promise<void> {
    await this.it.return?.();
  }
}

async function locate(a: string, b: string, path: string, limits: ArchiveLimits): Promise<FirstDifference> {
  const x = new Cursor(contentOf(a, path, limits));
  const y = new Cursor(contentOf(b, path, limits));
  try {
    let offset = 0;
    for (;;) {
      const [bx, by] = [await x.peek(), await y.peek()];
      const n = Math.min(bx.length, by.length);
      let i = 0;
      while (i < n && bx[i] === by[i]) i++;
      if (i < n || n === 0) {
        offset += i;
        x.skip(i);
        y.skip(i);
        break;
      }
      offset += n;
      x.skip(n);
      y.skip(n);
    }
    const [hx, hy] = [await x.take(CONTEXT), await y.take(CONTEXT)];
    return { path, offset, a: hx.toString("hex"), b: hy.toString("hex") };
  } finally {
    await x.close();
    await y.close();
  }
}
