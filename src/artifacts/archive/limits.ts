// Bounds on what an archive may expand to, and the running tally that enforces them on the bytes
// actually produced while streaming (headers may refuse early, they never vouch for anything).
import { ArchiveRule, reject } from "./reject.js";

export interface ArchiveLimits {
  /** Most entries (files, directories, links) in one archive. */
  maxEntries: number;
  /** Most bytes one entry may expand to. */
  maxEntryBytes: number;
  /** Most bytes all entries together may expand to. */
  maxTotalBytes: number;
  /** Most expanded bytes per compressed byte, per entry (zip) and for the whole archive. */
  maxRatio: number;
  /** Expanded bytes below which the ratio is not checked (tiny files compress absurdly well). */
  ratioGraceBytes: number;
  /** Longest entry path in bytes (UTF-8); each component is also held to 255 bytes. */
  maxPathBytes: number;
  /** Most compressed bytes read from a stream that must be spooled to disk first (zip from a stream). */
  maxArchiveBytes: number;
  /** Refuse two paths that differ only in letter case or Unicode normalisation (they collide on macOS/Windows). */
  refuseCaseCollisions: boolean;
}

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

export const DEFAULT_ARCHIVE_LIMITS: Readonly<ArchiveLimits> = Object.freeze({
  maxEntries: 100_000,
  maxEntryBytes: 4 * GiB,
  maxTotalBytes: 10 * GiB,
  maxRatio: 200,
  ratioGraceBytes: 1 * MiB,
  maxPathBytes: 4096,
  maxArchiveBytes: 10 * GiB,
  refuseCaseCollisions: true,
});

export function resolveLimits(partial: Partial<ArchiveLimits> = {}): ArchiveLimits {
  return { ...DEFAULT_ARCHIVE_LIMITS, ...partial };
}

/** The whole archive's tally: entry count, expanded bytes, and the compressed bytes they came from. */
export class Budget {
  entries = 0;
  total = 0;

  /** `compressedSoFar` says how many compressed bytes were read; undefined = not compressed (plain tar). */
  constructor(
    readonly limits: ArchiveLimits,
    private readonly compressedSoFar?: () => number,
  ) {}

  addEntry(name: string): void {
    this.entries += 1;
    if (this.entries > this.limits.maxEntries) {
      reject(name, ArchiveRule.TOO_MANY_ENTRIES, `more than ${this.limits.maxEntries} entries`);
    }
  }

  addBytes(name: string, n: number): void {
    this.total += n;
    if (this.total > this.limits.maxTotalBytes) {
      reject(name, ArchiveRule.TOTAL_TOO_LARGE, `archive expands past ${this.limits.maxTotalBytes} bytes`);
    }
    if (this.compressedSoFar !== undefined) {
      checkRatio(name, this.limits, this.total, this.compressedSoFar(), "archive");
    }
  }
}

export function checkRatio(
  name: string,
  limits: ArchiveLimits,
  expanded: number,
  compressed: number,
  what: string,
): void {
  if (expanded <= limits.ratioGraceBytes) return;
  if (expanded > limits.maxRatio * Math.max(compressed, 1)) {
    reject(
      name,
      ArchiveRule.RATIO,
      `${what} expands more than ${limits.maxRatio}:1 (${expanded} bytes from ${compressed})`,
    );
  }
}
