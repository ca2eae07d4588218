// The provider-neutral shape of a webhook delivery. Every provider file turns its own payload into
// a SourceEvent; the server only ever sees this shape (plus a GitHub-shaped `payload` for the
// `github.event` context).

export type Provider = "github" | "gitlab" | "gitea" | "bitbucket";

export const PROVIDERS: readonly Provider[] = ["github", "gitlab", "gitea", "bitbucket"];

/** What the HTTP layer hands over: the headers as Node gives them and the raw, unparsed body. */
export interface WebhookRequest {
  headers: Record<string, string | string[] | undefined>;
  rawBody: Buffer;
}

/**
 * GitHub caps webhook payloads at 25 MB; nothing larger is a genuine delivery. The HTTP layer must
 * stop reading at this size BEFORE hashing; verifyWebhook checks again as a second line.
 */
export const MAX_WEBHOOK_BODY_BYTES = 25 * 1024 * 1024;

/** Pull-request facts beyond the GitHub-style fields, needed to fetch the head commit. */
export interface PullRequestInfo {
  number: number;
  /** The source branch in the head repository (refs/heads/feature). */
  headRef: string;
  /** Clone URLs of the head repository (a fork, or the same repository); empty when unknown. */
  headCloneUrls: string[];
  /**
   * A ref in the BASE repository that holds the head commit, when the provider keeps one:
   * refs/pull/N/head (GitHub, Gitea/Forgejo), refs/merge-requests/N/head (GitLab). Bitbucket
   * keeps none: fetch headRef from headCloneUrls instead.
   */
  fetchRef?: string;
  merged?: boolean;
  /**
   * The head repository's full name ("owner/name"), as the forge names it; undefined when the
   * forge does not say (or the fork was deleted). A head repository other than the base one is a
   * fork: its code is untrusted (src/orchestrator/trust.ts).
   */
  headRepository?: string;
  /** GitHub's author_association (OWNER, MEMBER, COLLABORATOR, CONTRIBUTOR, FIRST_TIME_CONTRIBUTOR, FIRST_TIMER, NONE). */
  authorAssociation?: string;
}

/**
 * What a delivery means, provider-neutral.
 *
 * Decisions:
 * - `event` uses GitHub's names: push (branches and tags), pull_request.
 * - For push, `ref` is the pushed ref (refs/heads/x, refs/tags/v1) and `commit` the new head.
 * - For pull_request, `commit` is the HEAD commit of the pull request (not a merge commit: no
 *   provider but GitHub has one, and building it would need a merge we cannot vouch for), so
 *   `ref` is refs/pull/N/head, the ref that names that commit. Branch filters of `on.pull_request`
 *   match `baseRef` (refs/heads/main), as on GitHub.
 * - `action` uses GitHub's activity names (opened, synchronize, reopened, closed, edited).
 * - `commit` is a full SHA except for Bitbucket pull requests, whose payloads carry an abbreviated
 *   hash: resolve it with RepoMirror.resolve() after fetching.
 * - `changedFiles` is set only when the payload lists every changed file; otherwise undefined
 *   (unknown), and the mirror can compute it from before..commit.
 */
export interface SourceEvent {
  provider: Provider;
  deliveryId: string;
  event: string;
  action?: string;
  ref?: string;
  before?: string;
  commit?: string;
  baseRef?: string;
  /** A ref to fetch by name when a full fetch may not bring the commit (a merge queue's branch). */
  fetchRef?: string;
  changedFiles?: string[];
  repository: { fullName: string; cloneUrls: string[]; htmlUrl?: string; defaultBranch?: string };
  actor?: string;
  title?: string;
  deleted?: boolean;
  pullRequest?: PullRequestInfo;
  /**
   * The forge's own time of this event, where its (signed) payload has one: GitHub's
   * `repository.pushed_at` for a push, a pull request's `updated_at`. Genuine deliveries that
   * otherwise describe the same work differ by it; a replay cannot change it (fingerprint.ts).
   */
  updatedAt?: string;
  /** GitHub-shaped event payload for `github.event`. */
  payload: Record<string, unknown>;
}

export interface Ignored {
  ignored: string;
}
