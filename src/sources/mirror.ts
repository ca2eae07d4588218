// A bare mirror of one repository on the orchestrator host: fetched on webhooks and polls, read
// for workflow files and changed paths at a commit. One folder per clone URL (named by its hash,
// so hostile URLs never become paths); fetches are serialised per mirror (see lock.ts).
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { AirlockError, ErrorCode } from "../errors/index.js";
import { GitCommandError, runGit, splitUserinfo, withGitAuth, type GitAuth } from "../git/index.js";
import { fetchFailed, READ_TIMEOUT_MS } from "./git.js";
import { withLock } from "./lock.js";
import { checkCloneUrl, checkCommit, checkPath, checkRef, FULL_SHA, isAbbrevSha } from "./validate.js";

export interface RepoMirror {
  /** The bare repository's folder (e.g. to serve the code to machines). */
  readonly dir: string;
  readonly cloneUrl: string;
  /** Fetches all branches and tags (pruning deleted ones). Throws SOURCE_FETCH_FAILED. */
  fetch(): Promise<void>;
  /**
   * Fetches one extra ref (refs/pull/7/head, refs/merge-requests/7/head) into the mirror under
   * the same name; returns its commit, or undefined when the remote has no such ref.
   */
  fetchRef(ref: string): Promise<string | undefined>;
  /** A branch, tag, full ref or (abbreviated) commit id → full commit id; undefined when unknown. */
  resolve(ref: string): Promise<string | undefined>;
  /**
   * A regular file's content at a commit; undefined when absent (or a folder, symlink, submodule).
   * With `maxBytes`, a larger file is not read at all: FILE_TOO_LARGE, naming both sizes.
   */
  readFile(commit: string, path: string, opts?: { maxBytes?: number }): Promise<string | undefined>;
  /** Regular files directly in `dir` at a commit (non-recursive), as repository paths; [] when absent. */
  listFiles(commit: string, dir: string): Promise<string[]>;
  hasCommit(commit: string): Promise<boolean>;
  /** A commit's message (without trailing newlines); undefined when the commit is absent. */
  commitMessage(commit: string): Promise<string | undefined>;
  /**
   * A commit's committer time: `seconds` since the epoch (git's %ct, what SOURCE_DATE_EPOCH is set
   * to) and `iso` (%cI, with the committer's offset, as github.event.head_commit.timestamp);
   * undefined when the commit is absent.
   */
  commitTime(commit: string): Promise<{ seconds: number; iso: string } | undefined>;
  /**
   * The best common ancestor of two commits (for a pull request's three-dot diff, as GitHub's
   * `paths` filter uses: changedFiles(mergeBase(base, head), head)); undefined when none or absent.
   */
  mergeBase(a: string, b: string): Promise<string | undefined>;
  /** Paths changed between two commits (two-dot); undefined when `from` is unknown or absent. */
  changedFiles(from: string | undefined, to: string): Promise<string[] | undefined>;
}

export interface MirrorOptions {
  cacheDir: string;
  /** Without credentials; a `user:password@` in it is taken out and used as `auth` when none is given. */
  cloneUrl: string;
  /**
   * The repository's credential, asked for at each fetch (so a changed one applies at once);
   * handed to git through a file that lives as long as the fetch (src/git/auth.ts), never argv.
   */
  auth?: () => Promise<GitAuth | undefined>;
  /** Time limit of one fetch (default 10 minutes). */
  fetchTimeoutMs?: number;
}

const ZERO = /^0+$/;

export function openMirror(opts: MirrorOptions): RepoMirror {
  const split = splitUserinfo(checkCloneUrl(opts.cloneUrl));
  const url = split.url;
  const inline = split.userinfo;
  const auth =
    opts.auth ??
    (inline
      ? () => Promise.resolve<GitAuth>({ kind: "basic", ...inline })
      : () => Promise.resolve(undefined));
  const name = createHash("sha256").update(url).digest("hex").slice(0, 32);
  const dir = join(opts.cacheDir, `${name}.git`);
  const fetchTimeout = opts.fetchTimeoutMs ?? 600_000;
  const git = (args: string[], timeoutMs = READ_TIMEOUT_MS) => runGit(args, { gitDir: dir, timeoutMs });

  async function ensure(): Promise<void> {
    if (existsSync(join(dir, "HEAD"))) return;
    // Initialise beside and rename, so nobody ever sees a half-made repository.
    const tmp = `${dir}.init-${process.pid}-${Date.now()}`;
    await runGit(["init", "--bare", "--quiet", "--", tmp], { timeoutMs: READ_TIMEOUT_MS });
    await runGit(["config", "gc.auto", "0"], { gitDir: tmp, timeoutMs: READ_TIMEOUT_MS });
    try {
      await rename(tmp, dir);
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      if (!existsSync(join(dir, "HEAD"))) throw err;
    }
  }

  async function fetchRefspecs(refspecs: string[]): Promise<void> {
    await mkdir(opts.cacheDir, { recursive: true });
    await withLock(dir, async () => {
      await ensure();
      const credential = await auth();
      try {
        const args = [
          "fetch",
          "--quiet",
          "--prune",
          "--no-tags",
          "--no-write-fetch-head",
          "--",
          url,
          ...refspecs,
        ];
        await withGitAuth(credential, url, (env) =>
          runGit(args, { gitDir: dir, timeoutMs: fetchTimeout, env }),
        );
      } catch (err) {
        throw fetchFailed(url, err);
      }
    });
  }

  async function hasCommit(commit: string): Promise<boolean> {
    checkCommit(commit);
    if (!existsSync(join(dir, "HEAD"))) return false;
    return git(["cat-file", "-e", `${commit}^{commit}`]).then(
      () => true,
      () => false,
    );
  }

  async function mustHave(commit: string): Promise<void> {
    if (!(await hasCommit(commit)))
      throw new AirlockError(ErrorCode.SOURCE_COMMIT_NOT_FOUND, `commit ${commit} is not in the mirror`);
  }

  async function revParse(candidate: string): Promise<string | undefined> {
    return git(["rev-parse", "--verify", "--quiet", "--end-of-options", `${candidate}^{commit}`]).then(
      (r) => r.stdout.trim() || undefined,
      () => undefined,
    );
  }

  return {
    dir,
    cloneUrl: url,

    fetch: () => fetchRefspecs(["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"]),

    async fetchRef(ref) {
      checkRef(ref);
      if (!ref.startsWith("refs/"))
        throw new AirlockError(ErrorCode.SOURCE_REF_INVALID, "fetchRef needs a full ref");
      try {
        await fetchRefspecs([`+${ref}:${ref}`]);
      } catch (err) {
        const stderr = err instanceof AirlockError ? err.message : "";
        if (/couldn't find remote ref/i.test(stderr)) return undefined;
        throw err;
      }
      return revParse(ref);
    },

    async resolve(ref) {
      checkRef(ref);
      if (!existsSync(join(dir, "HEAD"))) return undefined;
      if (FULL_SHA.test(ref)) return (await hasCommit(ref)) ? ref : undefined;
      const candidates = ref.startsWith("refs/") ? [ref] : [`refs/heads/${ref}`, `refs/tags/${ref}`];
      if (isAbbrevSha(ref)) candidates.push(ref);
      for (const c of candidates) {
        const commit = await revParse(c);
        if (commit !== undefined) return commit;
      }
      return undefined;
    },

    async readFile(commit, path, opts) {
      const p = checkPath(path);
      await mustHave(commit);
      const entry = (await git(["ls-tree", "-l", "-z", commit, "--", p])).stdout.split("\0")[0] ?? "";
      // "<mode> <type> <object> <size>\t<name>": only regular files (not symlinks, folders, submodules).
      const m = /^(100644|100755) blob ([0-9a-f]+) +(\d+)\t/.exec(entry);
      if (!m?.[2]) return undefined;
      const size = Number(m[3]);
      if (opts?.maxBytes !== undefined && size > opts.maxBytes) {
        throw new AirlockError(
          ErrorCode.FILE_TOO_LARGE,
          `${p} is ${size} bytes; at most ${opts.maxBytes} bytes are read`,
        );
      }
      return (await git(["cat-file", "blob", m[2]])).stdout;
    },

    async listFiles(commit, folder) {
      const p = checkPath(folder);
      await mustHave(commit);
      let out: string;
      try {
        out = (await git(["ls-tree", "-z", `${commit}:${p}`])).stdout;
      } catch (err) {
        if (err instanceof GitCommandError) return []; // no such folder (or not a folder)
        throw err;
      }
      const files: string[] = [];
      for (const entry of out.split("\0")) {
        const m = /^(100644|100755) blob [0-9a-f]+\t(.+)$/s.exec(entry);
        if (m?.[2]) files.push(p === "" ? m[2] : `${p}/${m[2]}`);
      }
      return files.sort();
    },

    hasCommit,

    async commitMessage(commit) {
      checkCommit(commit);
      if (!(await hasCommit(commit))) return undefined;
      return (await git(["show", "-s", "--format=%B", "--end-of-options", commit])).stdout.replace(
        /\n+$/,
        "",
      );
    },

    async commitTime(commit) {
      checkCommit(commit);
      if (!(await hasCommit(commit))) return undefined;
      const out = (await git(["show", "-s", "--format=%ct %cI", "--end-of-options", commit])).stdout.trim();
      const [seconds = "", iso = ""] = out.split(" ");
      return /^\d+$/.test(seconds) ? { seconds: Number(seconds), iso } : undefined;
    },

    async mergeBase(a, b) {
      checkCommit(a);
      checkCommit(b);
      if (!(await hasCommit(a)) || !(await hasCommit(b))) return undefined;
      return git(["merge-base", "--end-of-options", a, b]).then(
        (r) => r.stdout.trim() || undefined,
        () => undefined,
      );
    },

    async changedFiles(from, to) {
      checkCommit(to);
      if (from === undefined || ZERO.test(from)) return undefined;
      checkCommit(from);
      if (!(await hasCommit(from)) || !(await hasCommit(to))) return undefined;
      const out = (
        await git(["diff-tree", "-r", "-z", "--name-only", "--no-renames", "--no-commit-id", from, to])
      ).stdout;
      return out
        .split("\0")
        .filter((f) => f !== "")
        .sort();
    },
  };
}
