// Public face of the expressions module: GitHub Actions `${{ }}` evaluation on @actions/expressions.
// Other modules import only from here.
import { toExpressionString as coerceToString } from "./convert.js";
import { evaluateBare, expressionSyntaxProblems } from "./evaluate.js";
import {
  conditionProblems,
  evaluateIf,
  evaluateTemplateValue,
  setOwn,
  templateProblems,
} from "./template.js";

/** Plain JSON values per context name (github, env, steps, ...). */
export type Contexts = Record<string, unknown>;

export interface EvalHost {
  /**
   * Job status for success()/failure()/cancelled()/always(). Defaults: success, not cancelled.
   * `succeeded` overrides success() where it is not simply "not failed and not cancelled" (job-level
   * `if`: a skipped need makes success() false without making failure() true).
   */
  status?: { failed: boolean; cancelled: boolean; succeeded?: boolean };
  /** hashFiles(...patterns): sha256 hex of the matched workspace files, "" when none matched. */
  hashFiles?(patterns: string[]): string;
  /**
   * The named contexts available where this value sits (GitHub's "context availability"); an
   * expression reading any other context fails instead of reading null. Default: all of them.
   */
  contexts?: readonly string[];
}

export { hashFilesOnDisk } from "./hashfiles.js";
export { formatNumber, isTruthy } from "./convert.js";
export { KNOWN_CONTEXTS } from "./evaluate.js";
export { scanTemplate, type Scan, type Segment } from "./template.js";

/**
 * Evaluates bare expression text (no `${{ }}`) to a plain JS value.
 * Throws EXPRESSION_INVALID on syntax errors, EXPRESSION_FAILED on evaluation errors.
 */
export function evaluateExpression(expr: string, ctx: Contexts, host?: EvalHost): unknown {
  return evaluateBare(expr.trim(), ctx, host);
}

/**
 * Evaluates `${{ }}` deep in arrays/objects (keys too). A string that is exactly one expression keeps the
 * value's type; other strings with expressions are interpolated; strings without `${{` are returned as is.
 */
export function evaluateTemplate(value: unknown, ctx: Contexts, host?: EvalHost): unknown {
  return evaluateTemplateValue(value, ctx, host);
}

/** evaluateTemplate, then GitHub's string coercion of the result. */
export function evaluateToString(value: unknown, ctx: Contexts, host?: EvalHost): string {
  return coerceToString(evaluateTemplateValue(value, ctx, host));
}

/**
 * A mapping of strings (`env:`, `with:`): expression keys and `${{ insert }}` applied (see
 * evaluateTemplate), then each value coerced to a string.
 */
export function evaluateStringMap(
  map: Record<string, unknown> | undefined,
  ctx: Contexts,
  host?: EvalHost,
): Record<string, string> {
  const out: Record<string, string> = {};
  const evaluated = evaluateTemplateValue(map ?? {}, ctx, host) as Record<string, unknown>;
  for (const [k, v] of Object.entries(evaluated)) setOwn(out, k, coerceToString(v));
  return out;
}

/**
 * GitHub `if:` semantics: undefined/empty → success(); the text may be wrapped in `${{ }}`; without a
 * status function call it means `success() && (cond)`; the result's truthiness decides.
 */
export function evaluateCondition(cond: string | undefined, ctx: Contexts, host?: EvalHost): boolean {
  return evaluateIf(cond, ctx, host);
}

/** GitHub's string coercion: null → "", booleans → "true"/"false", numbers as G15, arrays/objects → JSON. */
export function toExpressionString(v: unknown): string {
  return coerceToString(v);
}

/** Syntax problems of every `${{ }}` in a string (empty when all parse). */
export function findExpressionProblems(text: string): string[] {
  return templateProblems(text);
}

/** Syntax problems of an `if:` value (bare or wrapped in `${{ }}`). */
export function checkConditionSyntax(cond: string): string[] {
  return conditionProblems(cond);
}

/** Syntax problems of one bare expression. */
export function checkExpressionSyntax(expr: string): string[] {
  return expressionSyntaxProblems(expr.trim());
}

/** Whether a string holds any `${{` expression (cheap check before evaluating). */
export function hasExpression(text: string): boolean {
  return text.includes("${{");
}
