// Where a remote repository lives (`<actionsUrl>/<owner>/<repo>`) and where its trees are cached
// on the host (`<cacheDir>/<host-or-"file">/<owner>/<repo>/<commit>/`).
import { join } from "node:path";

export interface ActionsOptions {
  /** Base URL of the git server: "https://github.com", "file:///srv/git", or any git URL base. */
  actionsUrl: string;
  /** Host folder holding fetched trees, shared by every process on the host. */
  cacheDir: string;
}

export interface RepoLocation {
  owner: string;
  repo: string;
  /** What git fetches from. */
  url: string;
  /** One folder per server, so two servers' owner/repo never share cache entries. */
  hostKey: string;
}

export function repoLocation(opts: ActionsOptions, owner: string, repo: string): RepoLocation {
  const base = opts.actionsUrl.replace(/\/+$/, "");
  return { owner, repo, url: `${base}/${owner}/${repo}`, hostKey: hostKeyOf(base) };
}

function hostKeyOf(base: string): string {
  if (base.startsWith("/")) return "file";
  let key: string;
  try {
    const u = new URL(base);
    if (u.protocol === "file:") return "file";
    key = u.host;
  } catch {
    // scp-like "git@host:" bases: the part between @ and :.
    key = base.replace(/^[^@]*@/, "").replace(/:.*$/, "");
  }
  key = key.toLowerCase().replace(/[^a-z0-9.-]/g, "_");
  return key && key !== "." && key !== ".." ? key : "_";
}

export function cachedTreeDir(opts: ActionsOptions, loc: RepoLocation, commit: string): string {
  return join(opts.cacheDir, loc.hostKey, loc.owner, loc.repo, commit);
}

/** Staging area for fetches in progress: inside cacheDir so the final rename stays on one filesystem. */
export function stagingDir(opts: ActionsOptions): string {
  return join(opts.cacheDir, ".staging");
}

/** The repository URL without userinfo ("https://user:token@host/x" → "https://host/x"). */
export function stripCredentials(repository: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(repository)) return repository;
  try {
    const u = new URL(repository);
    if (!u.username && !u.password) return repository;
    u.username = "";
    u.password = "";
    return u.toString();
  } catch {
    return repository.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, "$1");
  }
}
