// loadWorkflows: read and validate every workflow file of a repository folder (or one file).
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { AirlockError, ErrorCode, type Problem } from "../errors/index.js";
import type { Workflow } from "./model.js";
import { parseWorkflow } from "./parse.js";

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
    .filter((d) => d.isFile() && WORKFLOW_FILE.test(d.name))
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
    const result = parseWorkflow(rel, await readFile(file, "utf8"));
    problems.push(...result.problems);
    if (result.workflow) workflows.push(result.workflow);
  }
  return { workflows, problems };
}
