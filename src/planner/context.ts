// Builds the `github` context and the event payload of a run from the repository and the CLI's
// event options, the way GitHub fills them for the same event.
import { basename } from "node:path";
import { stripUserinfo, type RepoInfo } from "../git/index.js";
import { githubUrls } from "./github-urls.js";

export interface RunIdentity {
  runId: string;
  runNumber: number;
  /** github.run_attempt: 1, one more per re-run of the run (default 1). */
  runAttempt?: number;
  actor: string;
  /** github.triggering_actor: who started this attempt (a re-runner); default the actor. */
  triggeringActor?: string;
  serverUrl: string;
}

/** owner/name from an origin URL (https, ssh or scp-like), else "local/<folder>". */
export function repositoryName(repo: RepoInfo): string {
  const url = repo.originUrl;
  if (url) {
    const m = /[:/]([^/:]+)\/([^/]+?)(?:\.git)?\/?$/.exec(url);
    if (m?.[1] && m[2]) return `${m[1]}/${m[2]}`;
  }
  return `local/${basename(repo.root)}`;
}

/** The payload GitHub would send for `event`, unless the user gave one with -e. */
export function defaultPayload(
  event: string,
  repo: RepoInfo,
  fullName: string,
  inputs: Record<string, unknown>,
): Record<string, unknown> {
  const [owner = "local", name = "repo"] = fullName.split("/");
  const branch = repo.ref?.replace(/^refs\/heads\//, "") ?? "main";
  const repository = {
    name,
    full_name: fullName,
    owner: { login: owner, name: owner },
    default_branch: branch,
    clone_url: stripUserinfo(repo.originUrl ?? repo.root),
  };
  const author = { name: repo.authorName, email: repo.authorEmail, username: repo.authorName };
  const headCommit = {
    id: repo.commit,
    tree_id: "",
    message: repo.message,
    timestamp: repo.timestamp,
    author,
    committer: author,
  };
  switch (event) {
    case "push":
      return {
        ref: repo.ref ?? `refs/heads/${branch}`,
        before: repo.parent ?? "0".repeat(40),
        after: repo.commit,
        created: false,
        deleted: false,
        forced: false,
        head_commit: headCommit,
        commits: [headCommit],
        pusher: { name: repo.authorName, email: repo.authorEmail },
        repository,
        sender: { login: owner },
      };
    case "pull_request":
    case "pull_request_target":
      return {
        action: "opened",
        number: 1,
        pull_request: {
          number: 1,
          title: repo.message.split("\n")[0] ?? "",
          head: { ref: branch, sha: repo.commit, repo: repository },
          base: { ref: branch, sha: repo.parent ?? repo.commit, repo: repository },
        },
        repository,
        sender: { login: owner },
      };
    case "workflow_dispatch":
      return { inputs, ref: repo.ref ?? `refs/heads/${branch}`, repository, sender: { login: owner } };
    default:
      return { repository, sender: { login: owner } };
  }
}

/** The ref GITHUB_REF holds for an event. */
export function eventRef(event: string, payload: Record<string, unknown>, repo: RepoInfo): string {
  if (event === "pull_request" || event === "pull_request_target") {
    const num = typeof payload.number === "number" ? payload.number : 1;
    return `refs/pull/${num}/merge`;
  }
  if (typeof payload.ref === "string" && payload.ref.startsWith("refs/")) return payload.ref;
  // A merge queue's group runs on its temporary branch (GITHUB_REF = merge_group.head_ref).
  const group = payload.merge_group as { head_ref?: unknown } | undefined;
  if (event === "merge_group" && typeof group?.head_ref === "string" && group.head_ref.startsWith("refs/"))
    return group.head_ref;
  return repo.ref ?? "refs/heads/main";
}

export function githubContext(opts: {
  event: string;
  payload: Record<string, unknown>;
  repo: RepoInfo;
  fullName: string;
  ref: string;
  identity: RunIdentity;
  workflowName: string;
  workflowFile: string;
}): Record<string, unknown> {
  const { repo, ref, identity } = opts;
  const refType = ref.startsWith("refs/tags/") ? "tag" : "branch";
  const refName = ref.replace(/^refs\/(heads|tags)\//, "");
  const pr = opts.payload.pull_request as { head?: { ref?: string }; base?: { ref?: string } } | undefined;
  const [owner = "local"] = opts.fullName.split("/");
  return {
    event_name: opts.event,
    event: opts.payload,
    sha: repo.commit,
    ref,
    ref_name: refName,
    ref_type: refType,
    ref_protected: false,
    head_ref: pr?.head?.ref ?? "",
    base_ref: pr?.base?.ref ?? "",
    repository: opts.fullName,
    repository_owner: owner,
    // Never with a password, wherever the URL came from (a local origin remote may carry one).
    repositoryUrl: stripUserinfo(repo.originUrl ?? repo.root),
    run_id: identity.runId,
    run_number: String(identity.runNumber),
    run_attempt: String(identity.runAttempt ?? 1),
    actor: identity.actor,
    triggering_actor: identity.triggeringActor || identity.actor,
    workflow: opts.workflowName,
    workflow_ref: `${opts.fullName}/${opts.workflowFile}@${ref}`,
    workflow_sha: repo.commit,
    ...githubUrls(identity.serverUrl),
    retention_days: "0",
    secret_source: "None",
    token: "",
  };
}
