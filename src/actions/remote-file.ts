// One file from a remote repository at a ref: how remote reusable workflows
// (owner/repo/.github/workflows/x.yml@ref) are read. Shares the host tree cache with actions.
import { AirlockError, ErrorCode } from "../errors/index.js";
import { fetchTree } from "./fetch.js";
import type { ActionsOptions } from "./location.js";
import { readContained } from "./manifest.js";

/**
 * Returns the file's text and the commit it was read at. Throws ACTION_INVALID for bad names,
 * ACTION_FETCH_FAILED when the repository cannot be fetched, ACTION_NOT_FOUND for an unknown ref
 * and WORKFLOW_NOT_FOUND when the file is not in the repository.
 */
export async function fetchRemoteFile(
  opts: ActionsOptions,
  owner: string,
  repo: string,
  ref: string,
  path: string,
): Promise<{ content: string; commit: string }> {
  const segments = path.split("/");
  if (segments.some((s) => s === "" || s === "." || s === ".." || /[\0\\]/.test(s))) {
    throw new AirlockError(ErrorCode.ACTION_INVALID, `invalid path "${path}" in ${owner}/${repo}@${ref}`);
  }
  const tree = await fetchTree(opts, owner, repo, ref);
  const content = await readContained(tree.treeDir, path);
  if (content === undefined) {
    throw new AirlockError(ErrorCode.WORKFLOW_NOT_FOUND, `${owner}/${repo}@${ref}: no file ${path}`);
  }
  return { content, commit: tree.commit };
}
