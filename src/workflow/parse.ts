// parseWorkflow: validate one workflow file (every problem at once) and build its model.
import type { Problem } from "../errors/index.js";
import { asObj, buildWorkflow } from "./build.js";
import { mergeProblems, workflowFindings } from "./checks.js";
import type { Workflow } from "./model.js";
import { workflowSchemaProblems } from "./schema.js";
import { yamlBoundProblems } from "./guard.js";
import { readYaml } from "./yaml-source.js";
import { workflowWarnings } from "./warnings.js";

/**
 * Validates a workflow and returns its model. `file` is the repository-relative path used in
 * problems and as `workflow.file`. The model is returned only when there are no problems, so a
 * caller cannot run a workflow that GitHub would refuse.
 */
export function parseWorkflow(file: string, content: string): { workflow?: Workflow; problems: Problem[] } {
  const bounds = yamlBoundProblems(file, content);
  if (bounds.length > 0) return { problems: bounds };
  const parserProblems = workflowSchemaProblems(file, content);
  const src = readYaml(file, content);
  if (src.doc.errors.length > 0) return { problems: parserProblems };
  const problems = mergeProblems(parserProblems, workflowFindings(src));
  if (problems.length > 0) return { problems };
  const raw = asObj(src.doc.toJS({ maxAliasCount: 1000 }));
  if (!raw) return { problems: [{ file, line: 1, col: 1, message: "A workflow must be a mapping" }] };
  const workflow = buildWorkflow(file.replace(/\\/g, "/"), raw);
  const warnings = workflowWarnings(src);
  if (warnings.length > 0) workflow.warnings = warnings;
  return { workflow, problems: [] };
}
