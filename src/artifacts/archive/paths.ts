// Entry names and modes, checked one entry at a time: a name becomes a normalised relative path or
// is refused. Deliberately stricter than POSIX: a name that could mean two things on some system
// (a backslash, a drive letter, a `..` that happens to stay inside) is refused rather than guessed.
import type { ArchiveLimits } from "./limits.js";
import { ArchiveRule, reject } from "./reject.js";

/** Returns the normalised path of `value` (refusals name `entry`) ("" for the archive root itself, as tar's "./"). */
export function normalizeEntryPath(value: string, limits: ArchiveLimits, entry = value): string {
  const name = entry;
  if (value.length === 0) reject(name, ArchiveRule.EMPTY_PATH, "the name is empty");
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value))
    reject(name, ArchiveRule.CONTROL_CHARACTER, "the name holds a control character");
  if (value.includes("\ufffd")) reject(name, ArchiveRule.NAME_ENCODING, "the name is not valid UTF-8");
  if (value.includes("\\")) reject(name, ArchiveRule.BACKSLASH, "the name holds a backslash");
  if (value.startsWith("/")) reject(name, ArchiveRule.ABSOLUTE_PATH, "the name is an absolute path");
  if (/^[A-Za-z]:/.test(value)) reject(name, ArchiveRule.DRIVE_LETTER, "the name starts with a drive letter");
  const parts: string[] = [];
  for (const part of value.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") reject(name, ArchiveRule.PARENT_COMPONENT, 'the name holds a ".." component');
    if (Buffer.byteLength(part) > 255)
      reject(name, ArchiveRule.PATH_TOO_LONG, "a path component is longer than 255 bytes");
    parts.push(part);
  }
  const path = parts.join("/");
  if (Buffer.byteLength(path) > limits.maxPathBytes) {
    reject(name, ArchiveRule.PATH_TOO_LONG, `the path is longer than ${limits.maxPathBytes} bytes`);
  }
  return path;
}

/** Keeps permission bits; refuses setuid, setgid and sticky rather than silently dropping them. */
export function checkMode(name: string, mode: number | null, fallback: number): number {
  if (mode === null) return fallback;
  if ((mode & 0o7000) !== 0) {
    reject(
      name,
      ArchiveRule.SPECIAL_MODE_BITS,
      `mode ${(mode & 0o7777).toString(8)} sets setuid, setgid or sticky`,
    );
  }
  return mode & 0o777;
}

/** The folding under which two paths name the same file on a case-insensitive filesystem. */
export function collisionKey(path: string): string {
  return path.normalize("NFC").toLowerCase();
}
