// What `airlock run` and the planner read from a local repository: HEAD's commit and metadata,
// the files it changed, a file's content at a commit. All through the hardened runner.
import { AirlockError, ErrorCode } from "../errors/index.js";
import { runGit, type GitResult } from "./run.js";

function git(cwd: string, args: string[]): Promise<GitResult> {
  return runGit(args, { cwd });
}

export interface RepoInfo {
  root: string;
  commit: string;
  /** Full ref name of HEAD (refs/heads/main), or undefined when detached. */
  ref: string | undefined;
  /** The commit's parent, if any. */
  parent: string | undefined;
  message: string;
  authorName: string;
  authorEmail: string;
  timestamp: string;
  originUrl: string | undefined;
}

/** Reads what a run needs to know about the repository holding `dir`. */
export async function readRepo(dir: string): Promise<RepoInfo> {
  let root: string;
  try {
    root = (await git(dir, ["rev-parse", "--show-toplevel"])).stdout.trim();
  } catch (cause) {
    throw new AirlockError(ErrorCode.NOT_A_GIT_REPOSITORY, `${dir} is not inside a git repository`, {
      cause,
    });
  }
  let commit: string;
  try {
    commit = (await git(root, ["rev-parse", "--verify", "HEAD^{commit}"])).stdout.trim();
  } catch (cause) {
    throw new AirlockError(ErrorCode.NOT_A_GIT_REPOSITORY, `${root} has no commit yet (git commit first)`, {
      cause,
    });
  }
  const ref = await git(root, ["symbolic-ref", "-q", "HEAD"]).then(
    (r) => r.stdout.trim() || undefined,
    () => undefined,
  );
  const parent = await git(root, ["rev-parse", "--verify", "-q", "HEAD^1"]).then(
    (r) => r.stdout.trim() || undefined,
    () => undefined,
  );
  const show = await git(root, ["show", "-s", "--format=%an%x00%ae%x00%cI%x00%B", "HEAD"]);
  const [authorName = "", authorEmail = "", timestamp = "", message = ""] = show.stdout.split("\0");
  const originUrl = await git(root, ["remote", "get-url", "origin"]).then(
    (r) => r.stdout.trim() || undefined,
    () => undefined,
  );
  return {
    root,
    commit,
    ref,
    parent,
    message: message.trim(),
    authorName,
    authorEmail,
    timestamp,
    originUrl,
  };
}

/** Files changed by HEAD relative to its parent (all files for a root commit). */
export async function changedFiles(
  root: string,
  commit: string,
  parent: string | undefined,
): Promise<string[]> {
  const args = parent
    ? ["diff", "--name-only", "-z", parent, commit]
    : ["ls-tree", "-r", "--name-only", "-z", commit];
  const out = (await git(root, args)).stdout;
  return out.split("\0").filter((f) => f !== "");
}

/** Reads a file's content at a commit, or undefined when absent. */
export async function showFile(root: string, commit: string, path: string): Promise<string | undefined> {
  try {
    return (await git(root, ["show", `${commit}:${path}`])).stdout;
  } catch {
    return undefined;
  }
}
