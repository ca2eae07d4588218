// loadWorkflows: read and validate every workflow file of a repository folder (or one file).
// Files are read only when they really lie inside the repository (a symlink, or a symlinked
// folder, that leads out of it is refused), at most MAX_FILE_BYTES of each, and parsed off the
// event loop.
import { open, readdir, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { AirlockError, ErrorCode, type Problem } from "../errors/index.js";
import { MAX_FILE_BYTES } from "./guard.js";
import type { Workflow } from "./model.js";
import { parseWorkflowOffLoop } from "./off-loop.js";

/**
 * Reads `file` (absolute) if its real path is inside `repoRoot`; throws PATH_OUTSIDE_REPOSITORY
 * otherwise. Reads one byte more than MAX_FILE_BYTES at most, so the parser can report the size.
 */
export async function readInsideRepo(repoRoot: string, file: string, display: string): Promise<string> {
  const root = await realpath(repoRoot);
  let real: string;
  try {
    real = await realpath(file);
  } catch (err) {
    throw new AirlockError(ErrorCode.WORKFLOW_NOT_FOUND, `${display} does not exist`, { cause: err });
  }
  if (real !== root && !real.startsWith(root + path.sep)) {
    throw new AirlockError(
      ErrorCode.PATH_OUTSIDE_REPOSITORY,
      `${display} leads out of the repository (a symlink to ${real}); refused`,
    );
  }
  const fh = await open(real, "r");
  try {
    const buf = Buffer.alloc(MAX_FILE_BYTES + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
      if (bytesRead === 0 || (n += bytesRead) >= buf.length) break;
    }
    return buf.subarray(0, n).toString("utf8");
  } finally {
    await fh.close();
  }
}

const WORKFLOW_FILE = /\.ya?ml$/i;

async function targetFiles(abs: string, target: string): Promise<string[]> {
  let st;
  try {
    st = await stat(abs);
  } catch (err) {
    throw new AirlockError(ErrorCode.WORKFLOW_NOT_FOUND, `No workflow file or folder at ${target}`, {
      cause: err,
    });
  }
  if (st.isFile()) return [abs];
  const names = (await readdir(abs, { withFileTypes: true }))
    // Symlinks too: one that stays inside the repository is read, one that leaves it is refused.
    .filter((d) => (d.isFile() || d.isSymbolicLink()) && WORKFLOW_FILE.test(d.name))
    .map((d) => d.name)
    .sort();
  return names.map((n) => path.join(abs, n));
}

/**
 * Reads `target` (a file or folder, relative to repoRoot; default `.github/workflows`). Problems
 * of all files are returned together; only valid workflows are in `workflows`. Throws
 * WORKFLOW_NOT_FOUND when the target does not exist.
 */
export async function loadWorkflows(
  repoRoot: string,
  target = ".github/workflows",
): Promise<{ workflows: Workflow[]; problems: Problem[] }> {
  const abs = path.resolve(repoRoot, target);
  const workflows: Workflow[] = [];
  const problems: Problem[] = [];
  for (const file of await targetFiles(abs, target)) {
    const rel = path.relative(path.resolve(repoRoot), file).split(path.sep).join("/");
    const result = await parseWorkflowOffLoop(rel, await readInsideRepo(repoRoot, file, rel));
    problems.push(...result.problems);
    if (result.workflow) workflows.push(result.workflow);
  }
  return { workflows, problems };
}
