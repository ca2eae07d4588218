// Shared webhook plumbing: header lookup, constant-time signature checks, JSON body parsing and a
// tiny typed reader for untrusted payloads that collects every missing field before failing.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { AirlockError, ErrorCode } from "../errors/index.js";
import { MAX_WEBHOOK_BODY_BYTES, type SourceEvent, type WebhookRequest } from "./types.js";

export const ZERO_SHA = /^0+$/;

/**
 * One header's value, case-insensitively. A header sent several times is ambiguous (which copy
 * did the sender sign?), so it counts as malformed: `null`.
 */
export function header(req: WebhookRequest, name: string): string | undefined | null {
  const lower = name.toLowerCase();
  let found: string | string[] | undefined;
  for (const [k, v] of Object.entries(req.headers)) {
    if (k.toLowerCase() !== lower || v === undefined) continue;
    if (found !== undefined) return null;
    found = v;
  }
  if (Array.isArray(found)) return found.length === 1 ? found[0] : null;
  return found;
}

export function unauthorized(message: string): AirlockError {
  return new AirlockError(ErrorCode.WEBHOOK_UNAUTHORIZED, message);
}

export function invalid(message: string, details?: unknown): AirlockError {
  return new AirlockError(ErrorCode.WEBHOOK_INVALID, message, { details });
}

/** Refuses oversized bodies and empty secrets before any hashing. */
export function checkPreconditions(req: WebhookRequest, secret: string): void {
  if (req.rawBody.length > MAX_WEBHOOK_BODY_BYTES)
    throw new AirlockError(ErrorCode.WEBHOOK_TOO_LARGE, "webhook body exceeds the size limit");
  // An empty secret would make every signature computable by anyone.
  if (secret === "") throw unauthorized("no webhook secret is configured for this repository");
}

/**
 * Checks a hex HMAC-SHA256 of the raw body. The provided value is decoded to bytes first; its
 * length is public (32 bytes), so refusing a wrong length leaks nothing about the secret, and the
 * comparison of equal-length digests is constant-time.
 */
export function verifyHmacSha256(body: Buffer, secret: string, providedHex: string | undefined | null): void {
  if (typeof providedHex !== "string" || !/^[0-9a-fA-F]{64}$/.test(providedHex))
    throw unauthorized("missing or malformed webhook signature");
  const expected = createHmac("sha256", secret).update(body).digest();
  const provided = Buffer.from(providedHex, "hex");
  if (!timingSafeEqual(expected, provided)) throw unauthorized("webhook signature does not match");
}

// Per-process key so that equal-length digests of both tokens can be compared in constant time
// without the comparison depending on the secret's length.
const TOKEN_KEY = randomBytes(32);

/** Constant-time equality of a shared token (GitLab's X-Gitlab-Token). */
export function verifyToken(secret: string, provided: string | undefined | null): void {
  if (typeof provided !== "string" || provided === "") throw unauthorized("missing webhook token");
  const a = createHmac("sha256", TOKEN_KEY).update(secret, "utf8").digest();
  const b = createHmac("sha256", TOKEN_KEY).update(provided, "utf8").digest();
  if (!timingSafeEqual(a, b)) throw unauthorized("webhook token does not match");
}

/** A required routing header (event name, delivery id). */
export function requireHeader(req: WebhookRequest, ...names: string[]): string {
  for (const name of names) {
    const v = header(req, name);
    if (v === null) throw invalid(`header ${name} was sent more than once`);
    if (v !== undefined && v.trim() !== "") return v.trim();
  }
  throw invalid(`missing header ${names.join(" or ")}`);
}

/**
 * The JSON payload. GitHub and Gitea can also deliver `application/x-www-form-urlencoded` with the
 * JSON in a `payload` field; the signature still covers the raw body, so both are accepted.
 */
export function parseBody(req: WebhookRequest): Record<string, unknown> {
  let text = req.rawBody.toString("utf8");
  const type = header(req, "content-type");
  if (typeof type === "string" && type.toLowerCase().startsWith("application/x-www-form-urlencoded")) {
    const field = new URLSearchParams(text).get("payload");
    if (field === null) throw invalid("form-encoded webhook without a payload field");
    text = field;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new AirlockError(ErrorCode.WEBHOOK_INVALID, "webhook body is not valid JSON", { cause });
  }
  if (!isObject(parsed)) throw invalid("webhook body is not a JSON object");
  return parsed;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Reads fields of an untrusted payload by dotted path. Required fields that are missing are
 * collected; `done()` throws one WEBHOOK_INVALID listing all of them.
 */
export class PayloadReader {
  private readonly missing: string[] = [];
  constructor(private readonly root: Record<string, unknown>) {}

  get(path: string): unknown {
    let cur: unknown = this.root;
    for (const part of path.split(".")) {
      if (!isObject(cur)) return undefined;
      cur = cur[part];
    }
    return cur;
  }

  str(path: string): string | undefined {
    const v = this.get(path);
    return typeof v === "string" ? v : undefined;
  }

  num(path: string): number | undefined {
    const v = this.get(path);
    return typeof v === "number" && Number.isFinite(v) ? v : undefined;
  }

  /** A time as the payload has it (ISO text or Unix seconds), as text; undefined when absent. */
  time(path: string): string | undefined {
    const v = this.get(path);
    return typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : undefined;
  }

  obj(path: string): Record<string, unknown> | undefined {
    const v = this.get(path);
    return isObject(v) ? v : undefined;
  }

  reqStr(path: string): string {
    const v = this.str(path);
    if (v === undefined || v === "") this.missing.push(path);
    return v ?? "";
  }

  reqNum(path: string): number {
    const v = this.num(path);
    if (v === undefined) this.missing.push(path);
    return v ?? 0;
  }

  done(what: string): void {
    if (this.missing.length > 0)
      throw invalid(`${what} payload lacks ${this.missing.join(", ")}`, { missing: this.missing });
  }
}

/** Union of added/modified/removed over a commit list; undefined when any entry lacks them. */
export function filesFromCommits(commits: unknown): string[] | undefined {
  if (!Array.isArray(commits) || commits.length === 0) return undefined;
  const files = new Set<string>();
  for (const c of commits) {
    if (!isObject(c)) return undefined;
    for (const key of ["added", "modified", "removed"]) {
      const list = c[key];
      if (!Array.isArray(list)) return undefined;
      for (const f of list) if (typeof f === "string") files.add(f);
    }
  }
  return [...files].sort();
}

export function firstLine(s: string | undefined): string | undefined {
  if (s === undefined) return undefined;
  return s.split("\n", 1)[0]?.trim() || undefined;
}

export function strings(...values: unknown[]): string[] {
  return values.filter((v): v is string => typeof v === "string" && v !== "");
}

/** The `repository` of a GitHub-shaped payload (GitHub, and Gitea/Forgejo, which copy its format). */
export function githubStyleRepository(r: PayloadReader): SourceEvent["repository"] {
  return {
    fullName: r.reqStr("repository.full_name"),
    cloneUrls: strings(r.get("repository.clone_url"), r.get("repository.ssh_url")),
    htmlUrl: r.str("repository.html_url"),
    defaultBranch: r.str("repository.default_branch"),
  };
}
