// The code of a local `airlock run` is the working tree as it is, as with `act`: HEAD's commit
// plus every uncommitted change — modified, added, deleted and untracked files — but not what
// .gitignore (and .git/info/exclude, the global excludes file) leaves out, such as node_modules:
// act copies the folder minus .gitignore's paths, and a job on GitHub starts without them too.
//
// Taken once, before any job starts (an edit made during the run does not reach half the jobs):
// a clone of HEAD's commit in a temp folder (so `.git` is a plain clone, without the user's hooks
// or credentials, and `git status` in the job shows the uncommitted changes as uncommitted), then
// the changed files copied over it. Every job's workspace, and actions/checkout of the run's own
// commit, get a copy of that snapshot; github.sha and github.ref still name HEAD.
import { chmod, copyFile, lstat, mkdir, mkdtemp, readlink, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cloneAt, overlay } from "../actions/index.js";
import { runGit, type RepoInfo } from "../git/index.js";
import type { WorkspaceSource } from "../runner/types.js";

/** Paths (relative, `/`-separated) that differ from HEAD: changed, deleted or untracked and not ignored. */
export async function uncommittedPaths(root: string): Promise<string[]> {
  const list = async (args: string[]): Promise<string[]> =>
    (await runGit(args, { cwd: root })).stdout.split("\0").filter((p) => p !== "" && !p.endsWith("/"));
  const changed = await list(["diff", "--name-only", "-z", "--no-renames", "HEAD", "--"]);
  const untracked = await list(["ls-files", "-z", "--others", "--exclude-standard"]);
  return [...new Set([...changed, ...untracked])].sort();
}

/** What a run runs, for its first line: "the working tree of /r (2 uncommitted changes) at commit abc1234 on main". */
export function workingTreeLine(repo: RepoInfo, changes: number): string {
  const what =
    changes === 0 ? "no uncommitted changes" : `${changes} uncommitted change${changes === 1 ? "" : "s"}`;
  const on = repo.ref?.startsWith("refs/heads/")
    ? `on ${repo.ref.slice("refs/heads/".length)}`
    : repo.ref
      ? `on ${repo.ref}`
      : "(detached HEAD)";
  return `the working tree of ${repo.root} (${what}) at commit ${repo.commit.slice(0, 7)} ${on}`;
}

export interface Snapshot {
  dir: string;
  remove(): Promise<void>;
}

/**
 * HEAD's commit with `paths` (from uncommittedPaths) taken from the working tree; `exclude`d paths
 * (the secret file) keep their committed state.
 */
export async function snapshotWorkingTree(
  repo: RepoInfo,
  paths: readonly string[],
  exclude: ReadonlySet<string>,
): Promise<Snapshot> {
  const tmp = await mkdtemp(join(tmpdir(), "airlock-worktree-"));
  const remove = (): Promise<void> => rm(tmp, { recursive: true, force: true });
  try {
    const dir = join(tmp, "repo");
    await cloneAt(dir, repo.root, repo.commit, repo.ref ?? repo.commit, {});
    for (const p of paths) {
      if (exclude.has(p) || p.split("/").some((part) => part === ".." || part === ".git" || part === ""))
        continue;
      await copyPath(join(repo.root, ...p.split("/")), dir, p);
    }
    return { dir, remove };
  } catch (err) {
    await remove();
    throw err;
  }
}

/** Puts the working tree's `rel` (a file, a symlink, or nothing: deleted) into the snapshot `dir`. */
async function copyPath(from: string, dir: string, rel: string): Promise<void> {
  const to = join(dir, ...rel.split("/"));
  const st = await lstat(from).catch(() => undefined);
  if (st?.isDirectory()) return; // a submodule or nested repository: not part of this checkout
  if (st === undefined) {
    // Deleted: only where every folder above is a real one (nothing is removed through a symlink).
    if (await realFolders(dir, rel, false)) await rm(to, { recursive: true, force: true });
    return;
  }
  await realFolders(dir, rel, true);
  await rm(to, { recursive: true, force: true });
  if (st.isSymbolicLink()) await symlink(await readlink(from), to);
  else if (st.isFile()) {
    await copyFile(from, to);
    await chmod(to, st.mode & 0o777);
  }
}

/**
 * Whether every folder above `rel` in `dir` is a real folder; with `make`, makes them so (a
 * committed symlink or file there is replaced, never followed) and returns true.
 */
async function realFolders(dir: string, rel: string, make: boolean): Promise<boolean> {
  let at = dir;
  for (const part of rel.split("/").slice(0, -1)) {
    at = join(at, part);
    const st = await lstat(at).catch(() => undefined);
    if (st?.isDirectory()) continue;
    if (!make) return false;
    if (st) await rm(at, { force: true });
    await mkdir(at);
  }
  return true;
}

/**
 * Checkouts of the run's own repository at its HEAD commit get the snapshot; anything else (a
 * checkout of another commit) goes to `fallback`.
 */
export function createWorkingTreeSource(
  repo: RepoInfo,
  snapshot: Snapshot,
  fallback: WorkspaceSource,
): WorkspaceSource {
  return {
    async checkout(machine, opts) {
      if (opts.repository !== repo.root || opts.commit.toLowerCase() !== repo.commit.toLowerCase())
        return fallback.checkout(machine, opts);
      if (opts.clean) await machine.copyIn(snapshot.dir, opts.path);
      else await overlay(machine, snapshot.dir, opts.path);
    },
  };
}
