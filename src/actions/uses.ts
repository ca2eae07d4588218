// Parsing and validating `uses:` references. Everything here comes from hostile workflow files,
// and owner/repo/ref end up in git argv and host paths, so anything unusual is refused outright.
import { posix } from "node:path";
import { AirlockError, ErrorCode } from "../errors/index.js";

export type ParsedUses =
  | { kind: "local"; path: string }
  | { kind: "remote"; owner: string; repo: string; path: string; ref: string }
  | { kind: "docker"; image: string };

const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,99})$/;
const REPO = /^[A-Za-z0-9_.-]{1,100}$/;
const REF_CHARS = /^[A-Za-z0-9._/+-]{1,255}$/;
const PATH_SEGMENT = /^[A-Za-z0-9_. +@-]{1,255}$/;
const HEX = /^[0-9a-f]+$/i;

function invalid(uses: string, why: string): AirlockError {
  return new AirlockError(ErrorCode.ACTION_INVALID, `invalid uses "${uses}": ${why}`);
}

/** True for a full 40 (SHA-1) or 64 (SHA-256) hex commit id. */
export function isFullSha(ref: string): boolean {
  return (ref.length === 40 || ref.length === 64) && HEX.test(ref);
}

/** True for an abbreviated commit id that git could resolve (at least 7 hex digits). */
export function isShortSha(ref: string): boolean {
  return ref.length >= 7 && ref.length < 40 && HEX.test(ref);
}

/** Checks a ref name: git's check-ref-format rules, narrowed to a safe character set. */
export function validateRef(ref: string): string | undefined {
  if (!REF_CHARS.test(ref)) return "ref has unsupported characters";
  if (ref.startsWith("-") || ref.startsWith("/") || ref.endsWith("/") || ref.endsWith(".")) {
    return "ref must not start with - or /, nor end with / or .";
  }
  if (ref.includes("..") || ref.includes("//")) return "ref must not contain .. or //";
  for (const part of ref.split("/")) {
    if (part.startsWith(".") || part.endsWith(".lock"))
      return "ref component must not start with . or end with .lock";
  }
  return undefined;
}

export function validateOwnerRepo(owner: string, repo: string): string | undefined {
  if (!OWNER.test(owner)) return "owner has unsupported characters";
  if (!REPO.test(repo) || repo === "." || repo === ".." || repo.startsWith("-"))
    return "repo name is not valid";
  return undefined;
}

/** Parses `./path`, `owner/repo[/path]@ref` or `docker://image`. Throws ACTION_INVALID. */
export function parseUses(uses: string): ParsedUses {
  if (uses !== uses.trim() || uses.length === 0) throw invalid(uses, "empty or surrounded by spaces");
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (/[\0-\x1f\x7f\\]/.test(uses)) throw invalid(uses, "control characters or backslashes");
  if (uses.startsWith("docker://")) {
    const image = uses.slice("docker://".length);
    if (!image || image.startsWith("-") || /\s/.test(image)) throw invalid(uses, "missing or bad image name");
    return { kind: "docker", image };
  }
  if (uses.startsWith("./") || uses === "." || uses.startsWith("../") || uses === "..") {
    const norm = posix.normalize(uses);
    if (norm === ".." || norm.startsWith("../") || posix.isAbsolute(norm)) {
      throw invalid(uses, "local action path leaves the workspace");
    }
    return { kind: "local", path: norm.replace(/\/+$/, "") || "." };
  }
  const at = uses.indexOf("@");
  if (at < 0) throw invalid(uses, "expected owner/repo@ref, ./path or docker://image");
  const name = uses.slice(0, at);
  const ref = uses.slice(at + 1);
  const refProblem = validateRef(ref);
  if (refProblem) throw invalid(uses, refProblem);
  const parts = name.split("/");
  const [owner = "", repo = "", ...rest] = parts;
  const nameProblem = validateOwnerRepo(owner, repo);
  if (nameProblem) throw invalid(uses, nameProblem);
  for (const seg of rest) {
    if (!PATH_SEGMENT.test(seg) || seg === "." || seg === ".." || seg.startsWith("-")) {
      throw invalid(uses, "action path has an empty, dot or unsupported segment");
    }
  }
  return { kind: "remote", owner, repo, path: rest.join("/"), ref };
}

/** actions/checkout@anything, compared case-insensitively like GitHub compares owner/repo. */
export function isCheckoutAction(uses: string): boolean {
  return /^actions\/checkout@/i.test(uses);
}
