// Schema and semantic validation by GitHub's own @actions/workflow-parser: YAML errors, the
// workflow/action JSON schema, expression syntax in expression-bearing fields, and (via the
// converters) unknown `needs`, dependency cycles, duplicate step ids. We use it only to find
// problems: the model itself is built from the raw YAML so expression text stays exact.
import { NoOperationTraceWriter } from "@actions/workflow-parser";
import { parseAction, convertActionTemplate } from "@actions/workflow-parser/actions/index";
import { ErrorPolicy } from "@actions/workflow-parser/model/convert";
import { convertOn } from "@actions/workflow-parser/model/converter/events";
import { convertJobs } from "@actions/workflow-parser/model/converter/jobs";
import { convertConcurrency } from "@actions/workflow-parser/model/converter/concurrency";
import { handleTemplateTokenErrors } from "@actions/workflow-parser/model/converter/handle-errors";
import { parseWorkflow as parseTemplate } from "@actions/workflow-parser/workflows/workflow-parser";
import type { TemplateContext } from "@actions/workflow-parser/templates/template-context";
import type { TemplateToken } from "@actions/workflow-parser/templates/tokens/template-token";
import { isMapping, isString } from "@actions/workflow-parser";
import type { Problem } from "../errors/index.js";

function toProblems(file: string, context: TemplateContext): Problem[] {
  return context.errors.getErrors().map((e) => ({
    file,
    line: e.range?.start.line ?? 1,
    col: e.range?.start.column ?? 1,
    // YAML errors append a multi-line source excerpt; the position already says where.
    message: (e.rawMessage.split("\n")[0] ?? "").trimEnd(),
  }));
}

/**
 * The synchronous part of convertWorkflowTemplate (which is async only to fetch reusable
 * workflows, which we never do here): it reports the semantic errors the schema cannot express.
 */
function convertChecks(context: TemplateContext, root: TemplateToken): void {
  if (!isMapping(root)) return;
  for (const item of root) {
    if (!isString(item.key)) continue;
    const key = item.key.value;
    if (key === "on") handleTemplateTokenErrors(root, context, {}, () => convertOn(context, item.value));
    else if (key === "jobs")
      handleTemplateTokenErrors(root, context, [], () => convertJobs(context, item.value));
    else if (key === "concurrency")
      handleTemplateTokenErrors(root, context, {}, () => convertConcurrency(context, item.value));
  }
}

export function workflowSchemaProblems(file: string, content: string): Problem[] {
  const result = parseTemplate({ name: file, content }, new NoOperationTraceWriter());
  if (result.value) convertChecks(result.context, result.value);
  return toProblems(file, result.context);
}

export function actionSchemaProblems(file: string, content: string): Problem[] {
  const result = parseAction({ name: file, content }, new NoOperationTraceWriter());
  if (result.value) {
    try {
      convertActionTemplate(result.context, result.value, { errorPolicy: ErrorPolicy.TryConversion });
    } catch (err) {
      result.context.error(result.value, err);
    }
  }
  return toProblems(file, result.context);
}
