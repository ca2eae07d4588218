// Which forge a repository lives on, where its API is, and the one request that sets a commit
// status there — pure functions, no network or database. Each request follows the forge's
// documented API:
//   GitHub   POST {api}/repos/{owner}/{repo}/statuses/{sha}  (REST "Create a commit status")
//   GitLab   POST {api}/projects/{url-encoded path}/statuses/{sha}  ("Set the pipeline status of a commit")
//   Gitea    POST {api}/repos/{owner}/{repo}/statuses/{sha}  (CreateStatusOption; Forgejo the same)
//   Bitbucket POST {api}/2.0/repositories/{workspace}/{repo_slug}/commit/{sha}/statuses/build
export const FORGE_KINDS = ["github", "gitlab", "gitea", "bitbucket"] as const;
export type ForgeKind = (typeof FORGE_KINDS)[number];

/** Where a run is, as reported: queued, waiting for approval, running, or its conclusion. */
export type RunPhase = "queued" | "waiting" | "running" | "success" | "failure" | "cancelled";

export interface StatusRequest {
  method: "POST";
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface StatusFacts {
  kind: ForgeKind;
  /** The API base (no trailing slash), e.g. https://api.github.com or https://host/api/v4. */
  apiUrl: string;
  /** The project's path on the forge: owner/repo (GitLab: group/sub/project). */
  path: string;
  commit: string;
  context: string;
  phase: RunPhase;
  /** The run's page: what the forge links the status to. */
  targetUrl: string;
  description: string;
  /** The branch or tag the run built (refs/heads/x or refs/tags/x), for GitLab's ref and Bitbucket's refname. */
  ref: string;
}

/** A forge's host and scheme from a clone URL (https, http, ssh:// or scp-like user@host:path). */
export function cloneHost(
  cloneUrl: string,
): { scheme: "https" | "http"; host: string; path: string } | undefined {
  const scp = /^[A-Za-z0-9_.-]+@([A-Za-z0-9_.-]+):(?!\/\/)(.+)$/.exec(cloneUrl);
  if (scp) return { scheme: "https", host: scp[1]!.toLowerCase(), path: trimPath(scp[2]!) };
  let u: URL;
  try {
    u = new URL(cloneUrl);
  } catch {
    return undefined;
  }
  if (!["https:", "http:", "ssh:", "git:"].includes(u.protocol) || u.hostname === "") return undefined;
  const http = u.protocol === "http:" || u.protocol === "https:";
  return {
    scheme: u.protocol === "http:" ? "http" : "https",
    // An ssh port is not the web port: keep the port of http(s) URLs only.
    host: http ? u.host.toLowerCase() : u.hostname.toLowerCase(),
    path: trimPath(decodeURIComponent(u.pathname)),
  };
}

function trimPath(p: string): string {
  return p
    .replace(/^\/+/, "")
    .replace(/\/+$/, "")
    .replace(/\.git$/, "");
}

/** The forge of a well-known host (self-hosted ones are named by configuration or webhooks). */
export function kindOfHost(host: string): ForgeKind | undefined {
  const h = host.replace(/:\d+$/, "");
  if (h === "github.com" || h === "www.github.com") return "github";
  if (h === "gitlab.com") return "gitlab";
  if (h === "bitbucket.org") return "bitbucket";
  if (h === "codeberg.org" || h === "gitea.com") return "gitea";
  return undefined;
}

/** The API base each forge serves for a host (GitHub Enterprise Server: /api/v3). */
export function apiUrlFor(kind: ForgeKind, clone: { scheme: string; host: string }): string {
  const web = `${clone.scheme}://${clone.host}`;
  switch (kind) {
    case "github":
      return clone.host === "github.com" || clone.host === "www.github.com"
        ? "https://api.github.com"
        : `${web}/api/v3`;
    case "gitlab":
      return `${web}/api/v4`;
    case "gitea":
      return `${web}/api/v1`;
    case "bitbucket":
      return "https://api.bitbucket.org";
  }
}

/**
 * The forge's web address, for the job's `github.server_url` (GITHUB_SERVER_URL): what a workflow
 * builds links with, and what GitHub's toolkit looks at to tell github.com from GHES. The clone
 * URL's host when it has one (github.com as GitHub writes it); else the configured API URL's
 * origin; else the well-known host of a configured kind. Undefined: no forge is known.
 */
export function forgeServerUrl(s: ForgeSettings): string | undefined {
  const clone = cloneHost(s.cloneUrl);
  const kind = s.kind ?? (clone ? kindOfHost(clone.host) : undefined);
  if (clone && (kind !== undefined || s.apiUrl !== null))
    return clone.host === "github.com" || clone.host === "www.github.com"
      ? "https://github.com"
      : `${clone.scheme}://${clone.host}`;
  if (s.apiUrl !== null) {
    try {
      const api = new URL(s.apiUrl);
      if (api.hostname === "api.github.com") return "https://github.com";
      if (api.hostname === "api.bitbucket.org") return "https://bitbucket.org";
      return api.origin;
    } catch {
      return undefined;
    }
  }
  if (kind === "github") return "https://github.com";
  if (kind === "gitlab") return "https://gitlab.com";
  if (kind === "bitbucket") return "https://bitbucket.org";
  return undefined;
}

/** The forge's state for a run phase (each forge has its own words; cancelled as each supports). */
export function forgeState(kind: ForgeKind, phase: RunPhase): string {
  const table: Record<ForgeKind, Record<RunPhase, string>> = {
    // GitHub and Gitea statuses have no "cancelled": error is "the run did not conclude".
    github: {
      queued: "pending",
      waiting: "pending",
      running: "pending",
      success: "success",
      failure: "failure",
      cancelled: "error",
    },
    gitea: {
      queued: "pending",
      waiting: "pending",
      running: "pending",
      success: "success",
      failure: "failure",
      cancelled: "error",
    },
    gitlab: {
      queued: "pending",
      waiting: "pending",
      running: "running",
      success: "success",
      failure: "failed",
      cancelled: "canceled",
    },
    bitbucket: {
      queued: "INPROGRESS",
      waiting: "INPROGRESS",
      running: "INPROGRESS",
      success: "SUCCESSFUL",
      failure: "FAILED",
      cancelled: "STOPPED",
    },
  };
  return table[kind][phase];
}

/** A short, one-line description (GitHub keeps at most 140 characters). */
export function describe(runNumber: number, phase: RunPhase): string {
  const words: Record<RunPhase, string> = {
    queued: "is queued",
    waiting: "is waiting for a maintainer's approval",
    running: "is running",
    success: "succeeded",
    failure: "failed",
    cancelled: "was cancelled",
  };
  return `Airlock run #${runNumber} ${words[phase]}`.slice(0, 140);
}

function shortRef(ref: string): string | undefined {
  const m = /^refs\/(?:heads|tags)\/(.+)$/.exec(ref);
  return m ? m[1] : undefined;
}

const enc = (s: string): string => encodeURIComponent(s);
const ownerRepo = (path: string): string => path.split("/").map(enc).join("/");

/** The request that sets the status (the token goes in a header only, never in the URL). */
export function statusRequest(f: StatusFacts, token: string): StatusRequest {
  const api = f.apiUrl.replace(/\/+$/, "");
  const sha = enc(f.commit);
  const state = forgeState(f.kind, f.phase);
  const json = { "content-type": "application/json", accept: "application/json", "user-agent": "airlock" };
  const ref = shortRef(f.ref);
  switch (f.kind) {
    case "github":
      return {
        method: "POST",
        url: `${api}/repos/${ownerRepo(f.path)}/statuses/${sha}`,
        headers: {
          ...json,
          accept: "application/vnd.github+json",
          "x-github-api-version": "2022-11-28",
          authorization: `Bearer ${token}`,
        },
        body: JSON.stringify({
          state,
          target_url: f.targetUrl,
          description: f.description,
          context: f.context,
        }),
      };
    case "gitea":
      return {
        method: "POST",
        url: `${api}/repos/${ownerRepo(f.path)}/statuses/${sha}`,
        headers: { ...json, authorization: `token ${token}` },
        body: JSON.stringify({
          state,
          target_url: f.targetUrl,
          description: f.description,
          context: f.context,
        }),
      };
    case "gitlab":
      return {
        method: "POST",
        url: `${api}/projects/${enc(f.path)}/statuses/${sha}`,
        headers: { ...json, "private-token": token },
        body: JSON.stringify({
          state,
          name: f.context,
          target_url: f.targetUrl,
          description: f.description,
          ...(ref ? { ref } : {}),
        }),
      };
    case "bitbucket":
      return {
        method: "POST",
        url: `${api}/2.0/repositories/${ownerRepo(f.path)}/commit/${sha}/statuses/build`,
        headers: { ...json, authorization: `Bearer ${token}` },
        body: JSON.stringify({
          key: f.context,
          state,
          name: f.context,
          url: f.targetUrl,
          description: f.description,
          ...(ref && f.ref.startsWith("refs/heads/") ? { refname: ref } : {}),
        }),
      };
  }
}

export interface ForgeSettings {
  /** The repository's name in Airlock (owner/repo). */
  name: string;
  cloneUrl: string;
  /** Set by the operator (repositories.forge_kind / forge_api_url); null: inferred. */
  kind: ForgeKind | null;
  apiUrl: string | null;
  /** The provider of the repository's latest webhook delivery, if any. */
  webhookProvider?: string | null;
}

export type ResolvedForge =
  | { ok: true; kind: ForgeKind; apiUrl: string; path: string }
  | { ok: false; problem: string; kind?: ForgeKind; path: string };

/**
 * Where a repository's statuses go: the configured kind, else its clone URL's well-known host,
 * else the forge its webhooks come from; the configured API URL, else the kind's for that host.
 * The project path is the clone URL's (a local clone URL has none: the repository's name).
 */
export function resolveForge(s: ForgeSettings): ResolvedForge {
  const clone = cloneHost(s.cloneUrl);
  const path = clone && clone.path.includes("/") ? clone.path : s.name;
  const hook = FORGE_KINDS.find((k) => k === s.webhookProvider);
  const kind = s.kind ?? (clone ? kindOfHost(clone.host) : undefined) ?? hook;
  if (!kind)
    return {
      ok: false,
      path,
      problem: `the forge of ${s.name} is unknown: name it with \`airlock repos forge ${s.name} --kind github|gitlab|gitea|bitbucket\``,
    };
  const apiUrl = s.apiUrl ?? (clone ? apiUrlFor(kind, clone) : undefined);
  if (!apiUrl)
    return {
      ok: false,
      kind,
      path,
      problem: `${s.name} has no forge API URL (its clone URL names no host): set it with \`airlock repos forge ${s.name} --api-url URL\``,
    };
  return { ok: true, kind, apiUrl: apiUrl.replace(/\/+$/, ""), path };
}
