// Entry points over the provider files: verify a delivery, then say what it means. Pure functions:
// no database, no HTTP framework. The caller verifies first and parses only verified bodies.
import { AirlockError, ErrorCode } from "../errors/index.js";
import { parseBitbucket, verifyBitbucket } from "./bitbucket.js";
import { invalid } from "./common.js";
import { parseGitea, verifyGitea } from "./gitea.js";
import { parseGithub, verifyGithub } from "./github.js";
import { parseGitlab, verifyGitlab } from "./gitlab.js";
import { isSafeRef } from "./validate.js";
import type { Ignored, Provider, SourceEvent, WebhookRequest } from "./types.js";

const VERIFY: Record<Provider, (req: WebhookRequest, secret: string) => void> = {
  github: verifyGithub,
  gitlab: verifyGitlab,
  gitea: verifyGitea,
  bitbucket: verifyBitbucket,
};

function provider(p: string): Provider {
  if (!Object.hasOwn(VERIFY, p)) throw new AirlockError(ErrorCode.WEBHOOK_INVALID, `unknown provider ${p}`);
  return p as Provider;
}

/** Throws WEBHOOK_UNAUTHORIZED unless the delivery is signed with `secret` (WEBHOOK_TOO_LARGE past the cap). */
export function verifyWebhook(p: Provider, req: WebhookRequest, secret: string): void {
  VERIFY[provider(p)](req, secret);
}

/**
 * Every event a delivery holds: one for most deliveries, several for a Bitbucket push of several
 * refs (the 2nd and later get `<delivery id>#<n>` as their id). Throws WEBHOOK_INVALID on a
 * missing routing header, bad JSON or a payload lacking required fields.
 */
export function parseWebhookEvents(p: Provider, req: WebhookRequest): SourceEvent[] | Ignored {
  const events = parseAny(provider(p), req);
  if (Array.isArray(events)) for (const e of events) checkEvent(e);
  return events;
}

function parseAny(p: Provider, req: WebhookRequest): SourceEvent[] | Ignored {
  switch (p) {
    case "bitbucket":
      return parseBitbucket(req);
    case "github":
      return wrap(parseGithub(req));
    case "gitlab":
      return wrap(parseGitlab(req));
    case "gitea":
      return wrap(parseGitea(req));
  }
}

const SHA = /^[0-9a-f]{7,64}$/;

/** Commit ids and refs are later handed to git: refuse deliveries whose values git never makes. */
function checkEvent(e: SourceEvent): void {
  const problems: string[] = [];
  if (e.commit !== undefined && !SHA.test(e.commit)) problems.push("commit");
  if (e.before !== undefined && !SHA.test(e.before)) problems.push("before");
  for (const [name, ref] of [
    ["ref", e.ref],
    ["baseRef", e.baseRef],
    ["fetchRef", e.fetchRef],
    ["pullRequest.headRef", e.pullRequest?.headRef],
  ] as const) {
    if (ref !== undefined && !(ref.startsWith("refs/") && isSafeRef(ref))) problems.push(name);
  }
  if (problems.length > 0)
    throw invalid(`webhook payload has malformed ${problems.join(", ")}`, { problems });
}

/** The delivery's (first) event, or why it is ignored. */
export function parseWebhook(p: Provider, req: WebhookRequest): SourceEvent | Ignored {
  const events = parseWebhookEvents(p, req);
  return Array.isArray(events) ? (events[0] ?? { ignored: "no event" }) : events;
}

function wrap(e: SourceEvent | Ignored): SourceEvent[] | Ignored {
  return "ignored" in e ? e : [e];
}
