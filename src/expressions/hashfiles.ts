// hashFiles(): GitHub's algorithm (actions/runner expressionFunc/hashFiles) over a directory on disk.
// sha256 over the concatenated binary sha256 digests of every matched file, "" when nothing matched.
import { createHash, type Hash } from "node:crypto";
import {
  closeSync,
  constants,
  fstatSync,
  openSync,
  readSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  statSync,
} from "node:fs";
import path from "node:path";
import picomatch from "picomatch";

interface CompiledPattern {
  negate: boolean;
  /** Pattern ended with "/": it names directories, so only descendants match. */
  dirOnly: boolean;
  isMatch: (p: string) => boolean;
}

/**
 * Patterns follow @actions/glob: one per line, `#` comments, leading `!` negates, later patterns win,
 * a pattern matching a directory matches every file below it, `*` matches dotfiles, no braces/extglobs.
 */
function compile(root: string, realRoot: string, patterns: string[]): CompiledPattern[] {
  const out: CompiledPattern[] = [];
  for (const line of patterns.flatMap((p) => p.split(/\r?\n/))) {
    let p = line.trim();
    if (p === "" || p.startsWith("#")) continue;
    let negate = false;
    while (p.startsWith("!")) {
      negate = !negate;
      p = p.slice(1);
    }
    if (path.isAbsolute(p)) {
      const base = [realRoot, root].find((r) => p === r || p.startsWith(`${r}/`));
      // Absolute patterns outside the root can never match a file we would hash.
      if (base === undefined) continue;
      p = p.slice(base.length + 1);
    }
    while (p.startsWith("./")) p = p.slice(2);
    const dirOnly = p.endsWith("/");
    p = p.replace(/\/+$/, "");
    if (p === "" || p === ".") p = "**";
    const isMatch = picomatch(p, { dot: true, nobrace: true, noextglob: true });
    out.push({ negate, dirOnly, isMatch });
  }
  return out;
}

function patternMatches(pattern: CompiledPattern, rel: string): boolean {
  const parts = rel.split("/");
  // The file itself, then each ancestor directory (implicit descendants).
  for (let n = parts.length; n >= 1; n--) {
    if (n === parts.length && pattern.dirOnly) continue;
    if (pattern.isMatch(parts.slice(0, n).join("/"))) return true;
  }
  return false;
}

function isInside(realRoot: string, p: string): boolean {
  return p === realRoot || p.startsWith(realRoot.endsWith("/") ? realRoot : `${realRoot}/`);
}

/** Regular files under root (relative, "/"-separated). Symlinks count only when they resolve to a file inside root. */
function listFiles(realRoot: string): string[] {
  const files: string[] = [];
  const walk = (dir: string, rel: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      const relPath = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) walk(full, relPath);
      else if (e.isFile()) files.push(relPath);
      else if (e.isSymbolicLink()) {
        // Like GitHub's default, symlinked directories are not descended into.
        try {
          const target = realpathSync(full);
          if (isInside(realRoot, target) && statSync(target).isFile()) files.push(relPath);
        } catch {
          // dangling link: nothing to hash
        }
      }
    }
  };
  walk(realRoot, "");
  return files;
}

/**
 * Hashes `file` if it is, at the moment it is opened, a regular file inside `realRoot`. A job may
 * swap names for symlinks or FIFOs while we work: open without following a final symlink and
 * without blocking (a FIFO would otherwise hang the whole process), then check what was really
 * opened (its type, and its path through /proc/self/fd, which reveals a swapped parent folder).
 */
function hashFileInto(realRoot: string, file: string, hash: Hash): boolean {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return false;
  }
  try {
    if (!fstatSync(fd).isFile()) return false;
    const opened = readlinkSync(`/proc/self/fd/${fd}`);
    if (!isInside(realRoot, opened)) return false;
    const buf = Buffer.allocUnsafe(1 << 16);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
    }
    return true;
  } finally {
    closeSync(fd);
  }
}

export function hashFilesOnDisk(root: string, patterns: string[]): string {
  const realRoot = realpathSync(root);
  const compiled = compile(path.resolve(root), realRoot, patterns);
  if (compiled.length === 0) return "";
  const matched = listFiles(realRoot)
    .filter((rel) => {
      let included = false;
      for (const p of compiled) if (patternMatches(p, rel)) included = !p.negate;
      return included;
    })
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (matched.length === 0) return "";
  const result = createHash("sha256");
  let hashed = 0;
  for (const rel of matched) {
    const fileHash = createHash("sha256");
    // Re-resolve at read time so a link swapped after listing still cannot lead outside root.
    let real: string;
    try {
      real = realpathSync(path.join(realRoot, rel));
    } catch {
      continue;
    }
    if (!isInside(realRoot, real) || !hashFileInto(realRoot, real, fileHash)) continue;
    result.update(fileHash.digest());
    hashed++;
  }
  return hashed === 0 ? "" : result.digest("hex");
}
