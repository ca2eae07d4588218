// Checks on ref names, commit ids, paths and clone URLs before they reach git's argv. They come
// from webhook payloads and users, so anything unusual is refused rather than escaped.
import { AirlockError, ErrorCode } from "../errors/index.js";

export const FULL_SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const ABBREV_SHA = /^[0-9a-f]{4,64}$/;
// Letters and digits of any script plus the punctuation people put in branch and tag names.
const REF_CHARS = /^[\p{L}\p{N}._/+\-=,@#]+$/u;

function refInvalid(what: string, value: string): AirlockError {
  return new AirlockError(ErrorCode.SOURCE_REF_INVALID, `refusing ${what} ${JSON.stringify(value)}`);
}

/** A branch, tag, full ref name or commit id; git's check-ref-format rules plus no option lookalikes. */
export function isSafeRef(ref: string): boolean {
  return !(
    ref === "" ||
    ref.length > 255 ||
    !REF_CHARS.test(ref) ||
    ref.startsWith("/") ||
    ref.endsWith("/") ||
    ref.endsWith(".") ||
    ref.includes("..") ||
    ref.includes("//") ||
    ref.includes("@{") ||
    ref === "@" ||
    ref.split("/").some((part) => part.startsWith(".") || part.startsWith("-") || part.endsWith(".lock"))
  );
}

/** isSafeRef or SOURCE_REF_INVALID. */
export function checkRef(ref: string): string {
  if (!isSafeRef(ref)) throw refInvalid("ref", ref);
  return ref;
}

/** A commit id (full or abbreviated hex). */
export function checkCommit(commit: string): string {
  if (!ABBREV_SHA.test(commit)) throw refInvalid("commit id", commit);
  return commit;
}

export function isAbbrevSha(s: string): boolean {
  return ABBREV_SHA.test(s);
}

/** A repository-relative path: no absolute paths, no `..`, no control characters. "" is the root. */
export function checkPath(path: string): string {
  const p = path.replace(/\/+$/, "").replace(/^\.\//, "");
  const bad = p.startsWith("/") || hasControl(p) || p.split("/").some((s) => s === ".." || s === ".");
  if (bad) throw refInvalid("path", path);
  return p === "." ? "" : p;
}

/** Clone URLs: ordinary transports only, never something git could read as an option. */
export function checkCloneUrl(url: string): string {
  const bad =
    url === "" || url.startsWith("-") || hasControl(url) || url.includes(" ") || /^[a-z0-9+.-]+::/i.test(url);
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  const okScheme = scheme === undefined || ["http", "https", "ssh", "git", "file"].includes(scheme);
  if (bad || !okScheme) throw new AirlockError(ErrorCode.CONFIG_INVALID, "unsupported clone URL");
  return url;
}

function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}
