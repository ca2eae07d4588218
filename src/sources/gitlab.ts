// GitLab webhooks: X-Gitlab-Token must equal the secret (compared in constant time), routing by
// X-Gitlab-Event ("Push Hook", "Tag Push Hook", "Merge Request Hook"), delivery id from
// Idempotency-Key (stable across GitLab's retries) or X-Gitlab-Event-UUID. Payloads are mapped
// to GitHub's shape for `github.event`.
import {
  checkPreconditions,
  filesFromCommits,
  firstLine,
  header,
  isObject,
  parseBody,
  PayloadReader,
  requireHeader,
  strings,
  verifyToken,
  ZERO_SHA,
} from "./common.js";
import type { Ignored, SourceEvent, WebhookRequest } from "./types.js";

export function verifyGitlab(req: WebhookRequest, secret: string): void {
  checkPreconditions(req, secret);
  verifyToken(secret, header(req, "x-gitlab-token"));
}

export function parseGitlab(req: WebhookRequest): SourceEvent | Ignored {
  const event = requireHeader(req, "x-gitlab-event");
  const deliveryId = requireHeader(req, "idempotency-key", "x-gitlab-event-uuid");
  if (event === "Push Hook" || event === "Tag Push Hook") return push(deliveryId, parseBody(req));
  if (event === "Merge Request Hook") return mergeRequest(deliveryId, parseBody(req));
  return { ignored: `event ${event} is not handled` };
}

function repository(r: PayloadReader): { neutral: SourceEvent["repository"]; github: object } {
  const fullName = r.reqStr("project.path_with_namespace");
  const httpUrl = r.str("project.git_http_url") ?? r.str("repository.git_http_url");
  const sshUrl = r.str("project.git_ssh_url") ?? r.str("repository.git_ssh_url");
  const htmlUrl = r.str("project.web_url") ?? r.str("repository.homepage");
  const defaultBranch = r.str("project.default_branch");
  return {
    neutral: { fullName, cloneUrls: strings(httpUrl, sshUrl), htmlUrl, defaultBranch },
    github: {
      id: r.num("project.id"),
      name: r.str("project.name"),
      full_name: fullName,
      clone_url: httpUrl,
      ssh_url: sshUrl,
      html_url: htmlUrl,
      default_branch: defaultBranch,
    },
  };
}

function githubCommit(c: unknown): unknown {
  if (!isObject(c)) return c;
  return {
    id: c.id,
    message: c.message,
    timestamp: c.timestamp,
    url: c.url,
    author: c.author,
    added: c.added,
    modified: c.modified,
    removed: c.removed,
  };
}

function push(deliveryId: string, body: Record<string, unknown>): SourceEvent | Ignored {
  const r = new PayloadReader(body);
  const ref = r.reqStr("ref");
  const before = r.reqStr("before");
  const after = r.reqStr("after");
  const repo = repository(r);
  r.done("push");
  if (ZERO_SHA.test(after)) return { ignored: `${ref} was deleted` };
  const commits = Array.isArray(body.commits) ? body.commits : [];
  // GitLab lists at most 20 commits; the list is complete only when it matches the total.
  const complete = !ZERO_SHA.test(before) && r.num("total_commits_count") === commits.length;
  const head = commits.find((c) => isObject(c) && c.id === after);
  const payload = {
    ref,
    before,
    after,
    created: ZERO_SHA.test(before),
    deleted: false,
    forced: false,
    commits: commits.map(githubCommit),
    head_commit: head === undefined ? null : githubCommit(head),
    repository: repo.github,
    pusher: { name: r.str("user_name"), email: r.str("user_email"), username: r.str("user_username") },
    sender: { login: r.str("user_username") },
  };
  return {
    provider: "gitlab",
    deliveryId,
    event: "push",
    ref,
    before: ZERO_SHA.test(before) ? undefined : before,
    commit: after,
    changedFiles: complete ? filesFromCommits(commits) : undefined,
    repository: repo.neutral,
    actor: r.str("user_username"),
    title: isObject(head) && typeof head.message === "string" ? firstLine(head.message) : undefined,
    deleted: false,
    payload,
  };
}

// GitLab merge-request actions in GitHub's vocabulary; approvals have no pull_request equivalent.
function githubAction(action: string, oldrev: string | undefined): string | undefined {
  switch (action) {
    case "open":
      return "opened";
    case "reopen":
      return "reopened";
    case "close":
    case "merge":
      return "closed";
    case "update":
      // An update that moved the source branch carries the previous head as `oldrev`.
      return oldrev ? "synchronize" : "edited";
    default:
      return undefined;
  }
}

function mergeRequest(deliveryId: string, body: Record<string, unknown>): SourceEvent | Ignored {
  const r = new PayloadReader(body);
  const rawAction = r.reqStr("object_attributes.action");
  const number = r.reqNum("object_attributes.iid");
  const headSha = r.reqStr("object_attributes.last_commit.id");
  const headRef = r.reqStr("object_attributes.source_branch");
  const baseRef = r.reqStr("object_attributes.target_branch");
  const repo = repository(r);
  r.done("merge request");
  const oldrev = r.str("object_attributes.oldrev");
  const action = githubAction(rawAction, oldrev);
  if (action === undefined) return { ignored: `merge request action ${rawAction} is not handled` };
  const merged = rawAction === "merge";
  const headUrl = r.str("object_attributes.source.git_http_url");
  const title = r.str("object_attributes.title");
  const updatedAt = r.time("object_attributes.updated_at");
  const pullRequest = {
    number,
    title,
    updated_at: updatedAt,
    html_url: r.str("object_attributes.url"),
    state: action === "closed" ? "closed" : "open",
    merged,
    draft: r.get("object_attributes.draft") === true,
    user: { login: r.str("user.username") },
    head: {
      ref: headRef,
      sha: headSha,
      repo: {
        full_name: r.str("object_attributes.source.path_with_namespace"),
        clone_url: headUrl,
        ssh_url: r.str("object_attributes.source.git_ssh_url"),
      },
    },
    base: { ref: baseRef, repo: repo.github },
  };
  return {
    provider: "gitlab",
    deliveryId,
    event: "pull_request",
    action,
    ref: `refs/pull/${number}/head`,
    before: oldrev,
    commit: headSha,
    baseRef: `refs/heads/${baseRef}`,
    repository: repo.neutral,
    actor: r.str("user.username"),
    title,
    pullRequest: {
      number,
      headRef: `refs/heads/${headRef}`,
      headCloneUrls: strings(headUrl),
      fetchRef: `refs/merge-requests/${number}/head`,
      merged,
      ...(pullRequest.head.repo.full_name !== undefined
        ? { headRepository: pullRequest.head.repo.full_name }
        : {}),
    },
    ...(updatedAt === undefined ? {} : { updatedAt }),
    payload: {
      action,
      number,
      pull_request: pullRequest,
      repository: repo.github,
      sender: { login: r.str("user.username") },
      ...(action === "synchronize" ? { before: oldrev, after: headSha } : {}),
    },
  };
}
