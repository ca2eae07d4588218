// GitHub webhooks: X-Hub-Signature-256 (sha256=<hex HMAC of the raw body>), routing by
// X-GitHub-Event, delivery id from X-GitHub-Delivery. The payload already has GitHub's shape.
import {
  checkPreconditions,
  filesFromCommits,
  firstLine,
  header,
  parseBody,
  PayloadReader,
  githubStyleRepository,
  requireHeader,
  strings,
  verifyHmacSha256,
  ZERO_SHA,
} from "./common.js";
import type { Ignored, SourceEvent, WebhookRequest } from "./types.js";

// GitHub lists at most this many commits in a push payload; a full list may be cut short.
const MAX_PUSH_COMMITS = 2048;

export function verifyGithub(req: WebhookRequest, secret: string): void {
  checkPreconditions(req, secret);
  const sig = header(req, "x-hub-signature-256");
  const hex = typeof sig === "string" && sig.startsWith("sha256=") ? sig.slice(7) : undefined;
  verifyHmacSha256(req.rawBody, secret, hex);
}

export function parseGithub(req: WebhookRequest): SourceEvent | Ignored {
  const event = requireHeader(req, "x-github-event");
  const deliveryId = requireHeader(req, "x-github-delivery");
  if (event === "ping") return { ignored: "ping" };
  if (event !== "push" && event !== "pull_request") return { ignored: `event ${event} is not handled` };
  const payload = parseBody(req);
  return event === "push" ? push(deliveryId, payload) : pullRequest(deliveryId, payload);
}

function push(deliveryId: string, payload: Record<string, unknown>): SourceEvent | Ignored {
  const r = new PayloadReader(payload);
  const ref = r.reqStr("ref");
  const before = r.reqStr("before");
  const after = r.reqStr("after");
  const repo = githubStyleRepository(r);
  r.done("push");
  const deleted = r.get("deleted") === true || ZERO_SHA.test(after);
  if (deleted) return { ignored: `${ref} was deleted` };
  const commits = r.get("commits");
  // A new branch's or a forced push's commit list does not describe the change from `before`.
  const complete =
    !ZERO_SHA.test(before) &&
    r.get("forced") !== true &&
    Array.isArray(commits) &&
    commits.length < MAX_PUSH_COMMITS;
  return {
    provider: "github",
    deliveryId,
    event: "push",
    ref,
    before: ZERO_SHA.test(before) ? undefined : before,
    commit: after,
    changedFiles: complete ? filesFromCommits(commits) : undefined,
    repository: repo,
    actor: r.str("sender.login") ?? r.str("pusher.name"),
    title: firstLine(r.str("head_commit.message")),
    deleted: false,
    ...optional("updatedAt", r.time("repository.pushed_at")),
    payload,
  };
}

function pullRequest(deliveryId: string, payload: Record<string, unknown>): SourceEvent {
  const r = new PayloadReader(payload);
  const action = r.reqStr("action");
  const number = r.reqNum("number");
  const headSha = r.reqStr("pull_request.head.sha");
  const headRef = r.reqStr("pull_request.head.ref");
  const baseRef = r.reqStr("pull_request.base.ref");
  const repo = githubStyleRepository(r);
  r.done("pull_request");
  return {
    provider: "github",
    deliveryId,
    event: "pull_request",
    action,
    ref: `refs/pull/${number}/head`,
    before: r.str("before"),
    commit: headSha,
    baseRef: `refs/heads/${baseRef}`,
    repository: repo,
    actor: r.str("sender.login"),
    title: r.str("pull_request.title"),
    pullRequest: {
      number,
      headRef: `refs/heads/${headRef}`,
      headCloneUrls: strings(r.get("pull_request.head.repo.clone_url")),
      fetchRef: `refs/pull/${number}/head`,
      merged: r.get("pull_request.merged") === true,
      ...optional("headRepository", r.str("pull_request.head.repo.full_name")),
      ...optional("authorAssociation", r.str("pull_request.author_association")),
    },
    ...optional("updatedAt", r.time("pull_request.updated_at")),
    payload,
  };
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}
