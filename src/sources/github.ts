// GitHub webhooks: X-Hub-Signature-256 (sha256=<hex HMAC of the raw body>), routing by
// X-GitHub-Event, delivery id from X-GitHub-Delivery. The payload already has GitHub's shape.
// Handled: push, pull_request, repository_dispatch (runs on the default branch, resolved by the
// core: the payload names no commit) and merge_group (a merge queue's group, at its head_sha).
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
  const parse = HANDLED[event];
  if (!parse) return { ignored: `event ${event} is not handled` };
  return parse(deliveryId, parseBody(req));
}

const HANDLED: Record<string, (id: string, payload: Record<string, unknown>) => SourceEvent | Ignored> = {
  push,
  pull_request: pullRequest,
  repository_dispatch: repositoryDispatch,
  merge_group: mergeGroup,
};

function repositoryDispatch(deliveryId: string, payload: Record<string, unknown>): SourceEvent {
  const r = new PayloadReader(payload);
  const action = r.reqStr("action");
  const repo = githubStyleRepository(r);
  r.done("repository_dispatch");
  const branch = r.str("branch") ?? repo.defaultBranch;
  return {
    provider: "github",
    deliveryId,
    event: "repository_dispatch",
    action,
    // The commit is the branch's latest when the run is made (the core fetches it).
    ...(branch ? { ref: `refs/heads/${branch}` } : {}),
    repository: repo,
    actor: r.str("sender.login"),
    title: `Repository dispatch ${action}`,
    payload,
  };
}

function mergeGroup(deliveryId: string, payload: Record<string, unknown>): SourceEvent {
  const r = new PayloadReader(payload);
  const action = r.reqStr("action");
  const headSha = r.reqStr("merge_group.head_sha");
  const headRef = r.reqStr("merge_group.head_ref");
  const baseRef = r.reqStr("merge_group.base_ref");
  const repo = githubStyleRepository(r);
  r.done("merge_group");
  return {
    provider: "github",
    deliveryId,
    event: "merge_group",
    action,
    // GITHUB_REF and GITHUB_SHA are the group's; `branches:` filters match its target branch.
    ref: headRef,
    commit: headSha,
    baseRef,
    // The queue's temporary branch may be gone from a full fetch by then: fetched by name too.
    fetchRef: headRef,
    repository: repo,
    actor: r.str("sender.login"),
    title: firstLine(r.str("merge_group.head_commit.message")) ?? `Merge group ${headRef}`,
    payload,
  };
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
