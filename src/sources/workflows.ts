// What the job source reads from a mirror: the workflow files at a commit, and the polling step
// for repositories that cannot send webhooks.
import type { RepoMirror } from "./mirror.js";
import { checkRef } from "./validate.js";

export const WORKFLOW_DIRS = [".airlock/workflows", ".github/workflows"] as const;

export interface WorkflowFiles {
  /** The folder the files came from. */
  dir: string;
  files: Array<{ path: string; content: string }>;
}

/**
 * The workflow files at a commit: `.airlock/workflows` when that folder holds any file at that
 * commit (git has no empty folders), else `.github/workflows`. Only *.yml / *.yaml files count;
 * throws SOURCE_COMMIT_NOT_FOUND when the mirror lacks the commit.
 */
export async function workflowsAt(mirror: RepoMirror, commit: string): Promise<WorkflowFiles> {
  let dir: string = WORKFLOW_DIRS[1];
  let listed = await mirror.listFiles(commit, WORKFLOW_DIRS[0]);
  if (listed.length > 0) dir = WORKFLOW_DIRS[0];
  else listed = await mirror.listFiles(commit, dir);
  const files: WorkflowFiles["files"] = [];
  for (const path of listed.filter((p) => /\.ya?ml$/.test(p))) {
    const content = await mirror.readFile(commit, path);
    if (content !== undefined) files.push({ path, content });
  }
  return { dir, files };
}

/**
 * One poll: fetch, resolve the branch, and report its head when it differs from `lastSeen`
 * (with the files changed since `lastSeen` when the mirror can tell). Undefined when nothing is
 * new or the branch does not exist.
 */
export async function pollRepository(
  mirror: RepoMirror,
  branch: string,
  lastSeen: string | undefined,
): Promise<{ commit: string; changedFiles?: string[] } | undefined> {
  const ref = checkRef(branch.startsWith("refs/") ? branch : `refs/heads/${branch}`);
  await mirror.fetch();
  const commit = await mirror.resolve(ref);
  if (commit === undefined || commit === lastSeen) return undefined;
  const changedFiles = lastSeen === undefined ? undefined : await mirror.changedFiles(lastSeen, commit);
  return changedFiles === undefined ? { commit } : { commit, changedFiles };
}
