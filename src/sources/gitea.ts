// Gitea and Forgejo webhooks: X-Gitea-Signature / X-Forgejo-Signature (bare hex HMAC-SHA256 of
// the raw body), routing by X-Gitea-Event / X-Forgejo-Event, delivery id from X-Gitea-Delivery /
// X-Forgejo-Delivery. Gitea's payloads were modelled on GitHub's, so little mapping is needed.
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

export function verifyGitea(req: WebhookRequest, secret: string): void {
  checkPreconditions(req, secret);
  const forgejo = header(req, "x-forgejo-signature");
  verifyHmacSha256(req.rawBody, secret, forgejo ?? header(req, "x-gitea-signature"));
}

export function parseGitea(req: WebhookRequest): SourceEvent | Ignored {
  const event = requireHeader(req, "x-forgejo-event", "x-gitea-event");
  const deliveryId = requireHeader(req, "x-forgejo-delivery", "x-gitea-delivery");
  if (event === "ping") return { ignored: "ping" };
  if (event === "push") return push(deliveryId, parseBody(req));
  if (event === "pull_request") return pullRequest(deliveryId, parseBody(req));
  return { ignored: `event ${event} is not handled` };
}

function push(deliveryId: string, payload: Record<string, unknown>): SourceEvent | Ignored {
  const r = new PayloadReader(payload);
  const ref = r.reqStr("ref");
  const before = r.reqStr("before");
  const after = r.reqStr("after");
  const repo = githubStyleRepository(r);
  r.done("push");
  if (ZERO_SHA.test(after)) return { ignored: `${ref} was deleted` };
  const commits = Array.isArray(payload.commits) ? payload.commits : [];
  // Gitea caps the commit list (webhook PAYLOAD_COMMIT_LIMIT) and reports the real count.
  const total = r.num("total_commits");
  const complete = !ZERO_SHA.test(before) && (total === undefined || total === commits.length);
  return {
    provider: "gitea",
    deliveryId,
    event: "push",
    ref,
    before: ZERO_SHA.test(before) ? undefined : before,
    commit: after,
    changedFiles: complete ? filesFromCommits(commits) : undefined,
    repository: repo,
    actor: r.str("sender.login") ?? r.str("pusher.login"),
    title: firstLine(r.str("head_commit.message")),
    deleted: false,
    // Gitea has no pushed_at; the repository's updated_at is the closest time it signs.
    ...at(r.time("repository.updated_at")),
    payload,
  };
}

// Gitea says "synchronized" where GitHub says "synchronize".
const ACTIONS: Record<string, string> = { synchronized: "synchronize" };

function pullRequest(deliveryId: string, body: Record<string, unknown>): SourceEvent {
  const r = new PayloadReader(body);
  const rawAction = r.reqStr("action");
  const number = r.num("number") ?? r.reqNum("pull_request.number");
  const headSha = r.reqStr("pull_request.head.sha");
  const headRef = r.reqStr("pull_request.head.ref");
  const baseRef = r.reqStr("pull_request.base.ref");
  const repo = githubStyleRepository(r);
  r.done("pull_request");
  const action = ACTIONS[rawAction] ?? rawAction;
  return {
    provider: "gitea",
    deliveryId,
    event: "pull_request",
    action,
    ref: `refs/pull/${number}/head`,
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
      ...(r.str("pull_request.head.repo.full_name") !== undefined
        ? { headRepository: r.str("pull_request.head.repo.full_name")! }
        : {}),
    },
    ...at(r.time("pull_request.updated_at")),
    payload: { ...body, action, number },
  };
}

const at = (updatedAt: string | undefined): { updatedAt?: string } =>
  updatedAt === undefined ? {} : { updatedAt };
