// What the job source reads from a mirror: the workflow files at a commit, and the polling step
// for repositories that cannot send webhooks.
import { ErrorCode, isAirlockError, type Problem } from "../errors/index.js";
import { MAX_FILE_BYTES } from "../workflow/guard.js";
import type { RepoMirror } from "./mirror.js";
import { checkRef } from "./validate.js";

export const WORKFLOW_DIRS = [".airlock/workflows", ".github/workflows"] as const;

export interface WorkflowFiles {
  /** The folder the files came from. */
  dir: string;
  files: Array<{ path: string; content: string }>;
  /** Files not read because they are over MAX_FILE_BYTES (each gets a failed run naming its size). */
  problems: Problem[];
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
  const problems: Problem[] = [];
  for (const path of listed.filter((p) => /\.ya?ml$/.test(p))) {
    try {
      const content = await mirror.readFile(commit, path, { maxBytes: MAX_FILE_BYTES });
      if (content !== undefined) files.push({ path, content });
    } catch (e) {
      if (!isAirlockError(e, ErrorCode.FILE_TOO_LARGE)) throw e;
      problems.push({ file: path, line: 1, col: 1, message: e.message });
    }
  }
  return { dir, files, problems };
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
