// Bitbucket Cloud webhooks: X-Hub-Signature (sha256=<hex HMAC of the raw body>), routing by
// X-Event-Key (repo:push, pullrequest:*), delivery id from X-Request-UUID. One repo:push delivery
// can describe several refs (`push.changes`), so this provider can yield several events.
// Bitbucket payloads list neither changed files nor clone URLs: clone URLs are derived from the
// repository's html link.
import {
  checkPreconditions,
  firstLine,
  header,
  isObject,
  parseBody,
  PayloadReader,
  requireHeader,
  verifyHmacSha256,
} from "./common.js";
import type { Ignored, SourceEvent, WebhookRequest } from "./types.js";

export function verifyBitbucket(req: WebhookRequest, secret: string): void {
  checkPreconditions(req, secret);
  const sig = header(req, "x-hub-signature");
  const hex = typeof sig === "string" && sig.startsWith("sha256=") ? sig.slice(7) : undefined;
  verifyHmacSha256(req.rawBody, secret, hex);
}

export function parseBitbucket(req: WebhookRequest): SourceEvent[] | Ignored {
  const event = requireHeader(req, "x-event-key");
  const deliveryId = requireHeader(req, "x-request-uuid");
  if (event === "diagnostics:ping") return { ignored: "ping" };
  if (event === "repo:push") return push(deliveryId, parseBody(req));
  const action = PR_ACTIONS[event];
  if (action !== undefined) return [pullRequest(deliveryId, action, event, parseBody(req))];
  return { ignored: `event ${event} is not handled` };
}

// `updated` fires for new commits and for edits alike; Bitbucket does not say which.
const PR_ACTIONS: Record<string, string> = {
  "pullrequest:created": "opened",
  "pullrequest:updated": "synchronize",
  "pullrequest:fulfilled": "closed",
  "pullrequest:rejected": "closed",
};

function cloneUrls(htmlUrl: string | undefined, fullName: string): string[] {
  if (htmlUrl === undefined || !/^https:\/\//.test(htmlUrl)) return [];
  const urls = [htmlUrl.replace(/\/$/, "") + ".git"];
  if (new URL(htmlUrl).hostname === "bitbucket.org") urls.push(`git@bitbucket.org:${fullName}.git`);
  return urls;
}

function repository(
  r: PayloadReader,
  prefix: string,
): { neutral: SourceEvent["repository"]; github: object } {
  const fullName = r.reqStr(`${prefix}.full_name`);
  const htmlUrl = r.str(`${prefix}.links.html.href`);
  const urls = cloneUrls(htmlUrl, fullName);
  const defaultBranch = r.str(`${prefix}.mainbranch.name`);
  return {
    neutral: { fullName, cloneUrls: urls, htmlUrl, defaultBranch },
    github: {
      name: r.str(`${prefix}.name`),
      full_name: fullName,
      html_url: htmlUrl,
      clone_url: urls[0],
      ssh_url: urls[1],
      default_branch: defaultBranch,
      private: r.get(`${prefix}.is_private`) === true,
    },
  };
}

const actorName = (r: PayloadReader): string | undefined =>
  r.str("actor.nickname") ?? r.str("actor.username") ?? r.str("actor.display_name");

function push(deliveryId: string, body: Record<string, unknown>): SourceEvent[] | Ignored {
  const r = new PayloadReader(body);
  const repo = repository(r, "repository");
  const changes = r.get("push.changes");
  if (!Array.isArray(changes)) r.reqStr("push.changes");
  r.done("repo:push");
  const events: SourceEvent[] = [];
  for (const change of changes as unknown[]) {
    const c = new PayloadReader(isObject(change) ? change : {});
    // A change without `new` is a deleted branch or tag: nothing to build.
    if (c.obj("new") === undefined) continue;
    const kind = c.reqStr("new.type");
    const name = c.reqStr("new.name");
    const after = c.reqStr("new.target.hash");
    c.done("repo:push change");
    if (kind !== "branch" && kind !== "tag") continue;
    const ref = `refs/${kind === "branch" ? "heads" : "tags"}/${name}`;
    const before = c.str("old.target.hash");
    const message = c.str("new.target.message");
    const commits = Array.isArray(c.get("commits")) ? (c.get("commits") as unknown[]) : [];
    const payload = {
      ref,
      before: before ?? "0".repeat(40),
      after,
      created: before === undefined,
      deleted: false,
      forced: c.get("forced") === true,
      commits: commits.filter(isObject).map((x) => ({ id: x.hash, message: x.message, url: undefined })),
      head_commit: { id: after, message },
      repository: repo.github,
      pusher: { name: actorName(r) },
      sender: { login: actorName(r) },
    };
    events.push({
      provider: "bitbucket",
      deliveryId: events.length === 0 ? deliveryId : `${deliveryId}#${events.length}`,
      event: "push",
      ref,
      before,
      commit: after,
      repository: repo.neutral,
      actor: actorName(r),
      title: firstLine(message),
      deleted: false,
      payload,
    });
  }
  return events.length > 0 ? events : { ignored: "push deleted refs only" };
}

function pullRequest(
  deliveryId: string,
  action: string,
  event: string,
  body: Record<string, unknown>,
): SourceEvent {
  const r = new PayloadReader(body);
  const number = r.reqNum("pullrequest.id");
  const headSha = r.reqStr("pullrequest.source.commit.hash");
  const headRef = r.reqStr("pullrequest.source.branch.name");
  const baseRef = r.reqStr("pullrequest.destination.branch.name");
  const repo = repository(r, "repository");
  r.done(event);
  const headName = r.str("pullrequest.source.repository.full_name") ?? repo.neutral.fullName;
  const headUrls = cloneUrls(r.str("pullrequest.source.repository.links.html.href"), headName);
  const merged = event === "pullrequest:fulfilled";
  const title = r.str("pullrequest.title");
  const updatedAt = r.time("pullrequest.updated_on");
  return {
    provider: "bitbucket",
    deliveryId,
    event: "pull_request",
    action,
    ref: `refs/pull/${number}/head`,
    commit: headSha,
    baseRef: `refs/heads/${baseRef}`,
    repository: repo.neutral,
    actor: actorName(r),
    title,
    pullRequest: {
      number,
      headRef: `refs/heads/${headRef}`,
      headCloneUrls: headUrls,
      merged,
      ...(r.str("pullrequest.source.repository.full_name") !== undefined ? { headRepository: headName } : {}),
    },
    ...(updatedAt === undefined ? {} : { updatedAt }),
    payload: {
      action,
      number,
      pull_request: {
        number,
        title,
        updated_at: updatedAt,
        html_url: r.str("pullrequest.links.html.href"),
        state: action === "closed" ? "closed" : "open",
        merged,
        user: { login: r.str("pullrequest.author.nickname") ?? r.str("pullrequest.author.display_name") },
        head: { ref: headRef, sha: headSha, repo: { full_name: headName, clone_url: headUrls[0] } },
        base: { ref: baseRef, sha: r.str("pullrequest.destination.commit.hash"), repo: repo.github },
      },
      repository: repo.github,
      sender: { login: actorName(r) },
    },
  };
}
