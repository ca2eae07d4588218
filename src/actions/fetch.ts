// Resolving `ref` to a commit and materialising the repository tree at that commit in the host
// cache. Trees are written to a staging folder and renamed into place, so a cache folder that
// exists is always complete and concurrent fetches (even from other processes) cannot corrupt it.
// A full-SHA ref whose tree is cached never touches the network.
import { mkdir, mkdtemp, rename, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { AirlockError, ErrorCode } from "../errors/index.js";
import { git, isNetworkish } from "./git.js";
import {
  cachedTreeDir,
  repoLocation,
  stagingDir,
  stripCredentials,
  type ActionsOptions,
  type RepoLocation,
} from "./location.js";
import { isFullSha, isShortSha, validateOwnerRepo, validateRef } from "./uses.js";

export interface FetchedTree {
  commit: string;
  /** Host folder holding the whole repository at `commit` (no .git). */
  treeDir: string;
}

const LS_REMOTE_TIMEOUT_MS = 60_000;

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function fetchFailed(loc: RepoLocation, what: string, err: unknown): AirlockError {
  const networkish = isNetworkish(err);
  const url = stripCredentials(loc.url);
  const detail = (err instanceof Error ? err.message : String(err)).split(loc.url).join(url);
  return new AirlockError(ErrorCode.ACTION_FETCH_FAILED, `cannot ${what} ${url}: ${detail}`, {
    retryable: networkish,
    cause: err,
  });
}

/** Fetches trees for one ActionsOptions. Branch/tag resolution is remembered for this object's life. */
export class TreeFetcher {
  private readonly resolved = new Map<string, Promise<string | undefined>>();
  private readonly inflight = new Map<string, Promise<FetchedTree>>();

  constructor(private readonly opts: ActionsOptions) {}

  async fetch(owner: string, repo: string, ref: string): Promise<FetchedTree> {
    const problem = validateOwnerRepo(owner, repo) ?? validateRef(ref);
    if (problem)
      throw new AirlockError(ErrorCode.ACTION_INVALID, `invalid ${owner}/${repo}@${ref}: ${problem}`);
    const loc = repoLocation(this.opts, owner, repo);
    const key = `${loc.url}@${ref}`;
    let p = this.inflight.get(key);
    if (!p) {
      p = this.fetchUncached(loc, ref);
      this.inflight.set(key, p);
      // Failures are not remembered: a later load may succeed.
      p.catch(() => this.inflight.delete(key));
    }
    return p;
  }

  private async fetchUncached(loc: RepoLocation, ref: string): Promise<FetchedTree> {
    const commit: string | undefined = isFullSha(ref) ? ref.toLowerCase() : await this.resolveRef(loc, ref);
    // Like GitHub: a ref that is no branch or tag but abbreviates a commit is refused, naming the
    // full SHA to use (a branch or tag that merely looks like hex still works).
    const full = commit === undefined && isShortSha(ref) ? await this.resolveShortSha(loc, ref) : undefined;
    if (full !== undefined) {
      throw new AirlockError(
        ErrorCode.ACTION_INVALID,
        `unable to resolve action ${loc.owner}/${loc.repo}@${ref}: the ref "${ref}" is a shortened commit SHA, which is not supported; use the full commit SHA ${full} instead`,
      );
    }
    if (commit === undefined) {
      throw new AirlockError(
        ErrorCode.ACTION_NOT_FOUND,
        `${loc.owner}/${loc.repo}: unable to find version "${ref}"`,
      );
    }
    const treeDir = cachedTreeDir(this.opts, loc, commit);
    if (!(await exists(treeDir))) await this.materialise(loc, commit, treeDir);
    return { commit, treeDir };
  }

  /** Branch or tag → commit via ls-remote (tags win, as in git's own ref lookup). */
  private resolveRef(loc: RepoLocation, ref: string): Promise<string | undefined> {
    const key = `${loc.url}@${ref}`;
    let p = this.resolved.get(key);
    if (!p) {
      p = lsRemote(loc, ref);
      this.resolved.set(key, p);
      p.catch(() => this.resolved.delete(key));
    }
    return p;
  }

  private async resolveShortSha(loc: RepoLocation, short: string): Promise<string | undefined> {
    return this.withStaging(loc, async (work) => {
      await fetchAll(loc, work);
      const r = await git(work, [
        "rev-parse",
        "--verify",
        "-q",
        "--end-of-options",
        `${short}^{commit}`,
      ]).catch(() => undefined);
      return r?.stdout.trim() || undefined;
    });
  }

  private async materialise(loc: RepoLocation, commit: string, treeDir: string): Promise<void> {
    await this.withStaging(loc, async (work) => {
      try {
        await git(work, ["fetch", "-q", "--depth=1", "--no-tags", "--", loc.url, commit]);
      } catch (err) {
        if (isNetworkish(err)) throw fetchFailed(loc, "fetch", err);
        // Some servers refuse unadvertised commits: fetch every branch and tag instead.
        await fetchAll(loc, work);
      }
      const has = await git(work, ["cat-file", "-e", `${commit}^{commit}`]).then(
        () => true,
        () => false,
      );
      if (!has) {
        throw new AirlockError(
          ErrorCode.ACTION_NOT_FOUND,
          `${loc.owner}/${loc.repo}: commit ${commit} not found`,
        );
      }
      await git(work, ["checkout", "-q", "--detach", commit]);
      // A tag or branch named like a commit id could have been picked instead: insist on the commit,
      // since the cache entry is trusted forever under that id.
      const head = (await git(work, ["rev-parse", "--verify", "HEAD"])).stdout.trim().toLowerCase();
      if (head !== commit) {
        throw new AirlockError(
          ErrorCode.ACTION_NOT_FOUND,
          `${loc.owner}/${loc.repo}: commit ${commit} not found`,
        );
      }
      await rm(join(work, ".git"), { recursive: true, force: true });
      await mkdir(dirname(treeDir), { recursive: true });
      try {
        await rename(work, treeDir);
      } catch (err) {
        // Another load (maybe another process) put the same commit there first: use theirs.
        const code = (err as NodeJS.ErrnoException).code;
        if ((code !== "EEXIST" && code !== "ENOTEMPTY") || !(await exists(treeDir))) throw err;
      }
    });
  }

  /** Runs fn in a fresh staging repository, removed afterwards (unless fn renamed it away). */
  private async withStaging<T>(loc: RepoLocation, fn: (work: string) => Promise<T>): Promise<T> {
    const staging = stagingDir(this.opts);
    await mkdir(staging, { recursive: true });
    const work = await mkdtemp(join(staging, `${loc.owner}-${loc.repo}-`));
    try {
      await git(work, ["init", "-q"]);
      return await fn(work);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
}

async function lsRemote(loc: RepoLocation, ref: string): Promise<string | undefined> {
  const heads = `refs/heads/${ref}`;
  const tags = `refs/tags/${ref}`;
  let out: string;
  try {
    out = (await git(tmpdir(), ["ls-remote", "--", loc.url, heads, tags, `${tags}^{}`], LS_REMOTE_TIMEOUT_MS))
      .stdout;
  } catch (err) {
    throw fetchFailed(loc, "list refs of", err);
  }
  const refs = new Map<string, string>();
  for (const line of out.split("\n")) {
    const [sha, name] = line.split("\t");
    if (sha && name) refs.set(name, sha.toLowerCase());
  }
  return refs.get(`${tags}^{}`) ?? refs.get(tags) ?? refs.get(heads);
}

async function fetchAll(loc: RepoLocation, work: string): Promise<void> {
  try {
    await git(work, [
      "fetch",
      "-q",
      "--no-tags",
      "--",
      loc.url,
      "+refs/heads/*:refs/remotes/origin/*",
      "+refs/tags/*:refs/tags/*",
    ]);
  } catch (err) {
    throw fetchFailed(loc, "fetch", err);
  }
}

/** One-off fetch, for callers without a loader (remote reusable workflows). */
export function fetchTree(
  opts: ActionsOptions,
  owner: string,
  repo: string,
  ref: string,
): Promise<FetchedTree> {
  return new TreeFetcher(opts).fetch(owner, repo, ref);
}
