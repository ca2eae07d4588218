// The one way an archive is refused: an AirlockError with code ARCHIVE_REJECTED, a one-line message
// naming the entry (quoted, truncated, control characters escaped: entry names are hostile bytes)
// and the rule it broke, and the same two facts in `details` for callers and tests.
import { AirlockError, ErrorCode, isAirlockError } from "../../errors/index.js";

/** Every rule an archive can break; stable names (tests and callers match on them). */
export const ArchiveRule = {
  FORMAT: "format",
  CORRUPT: "corrupt",
  ENCRYPTED: "encrypted",
  COMPRESSION_METHOD: "compression-method",
  ABSOLUTE_PATH: "absolute-path",
  PARENT_COMPONENT: "parent-component",
  BACKSLASH: "backslash",
  DRIVE_LETTER: "drive-letter",
  CONTROL_CHARACTER: "control-character",
  NAME_ENCODING: "name-encoding",
  EMPTY_PATH: "empty-path",
  PATH_TOO_LONG: "path-too-long",
  DUPLICATE_PATH: "duplicate-path",
  CASE_COLLISION: "case-collision",
  PATH_CONFLICT: "path-conflict",
  SYMLINK_ESCAPE: "symlink-escape",
  SYMLINK_LOOP: "symlink-loop",
  HARDLINK_TARGET: "hardlink-target",
  SPECIAL_FILE: "special-file",
  SPECIAL_MODE_BITS: "special-mode-bits",
  OVERLAPPING_ENTRIES: "overlapping-entries",
  HEADER_MISMATCH: "header-mismatch",
  HIDDEN_DATA: "hidden-data",
  SIZE_MISMATCH: "size-mismatch",
  CRC_MISMATCH: "crc-mismatch",
  ENTRY_TOO_LARGE: "entry-too-large",
  TOTAL_TOO_LARGE: "total-too-large",
  TOO_MANY_ENTRIES: "too-many-entries",
  RATIO: "compression-ratio",
  ARCHIVE_TOO_LARGE: "archive-too-large",
} as const;
export type ArchiveRule = (typeof ArchiveRule)[keyof typeof ArchiveRule];

export interface ArchiveRejection {
  /** The entry's name as the archive spells it (decoded), or "" for the archive as a whole. */
  entry: string;
  rule: ArchiveRule;
}

const MAX_NAME_IN_MESSAGE = 80;

/** The entry name made safe for a one-line message: control characters escaped, long names cut. */
export function quoteEntry(name: string): string {
  const escaped = name.replace(
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u001f\u007f\u2028\u2029]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
  const cut = escaped.length > MAX_NAME_IN_MESSAGE ? `${escaped.slice(0, MAX_NAME_IN_MESSAGE)}…` : escaped;
  return JSON.stringify(cut);
}

export function rejection(entry: string, rule: ArchiveRule, why: string, cause?: unknown): AirlockError {
  const subject = entry === "" ? "archive" : `archive entry ${quoteEntry(entry)}`;
  const details: ArchiveRejection = { entry, rule };
  return new AirlockError(ErrorCode.ARCHIVE_REJECTED, `${subject} refused (${rule}): ${why}`, {
    details,
    cause,
  });
}

export function reject(entry: string, rule: ArchiveRule, why: string, cause?: unknown): never {
  throw rejection(entry, rule, why, cause);
}

/** A reader's own error (truncated stream, bad header) as a refusal; refusals pass through. */
export function corrupt(err: unknown, entry = ""): AirlockError {
  if (isAirlockError(err)) return err;
  return rejection(entry, ArchiveRule.CORRUPT, err instanceof Error ? err.message : "unreadable", err);
}
