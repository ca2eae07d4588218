// Syntax checks of `${{ }}` expressions inside workflow strings (delegated to the expressions
// module, so there is one list of contexts and functions), and turning a workflow `if:` value
// into the bare expression text the model stores.
import {
  checkExpressionSyntax,
  findExpressionProblems,
  hasExpression,
  scanTemplate,
} from "../expressions/index.js";

export { hasExpression };

/** Syntax-checks one bare expression; returns the error message, or undefined when it parses. */
export function checkExpression(expr: string): string | undefined {
  if (expr.trim() === "") return "An expression was expected";
  return checkExpressionSyntax(expr)[0];
}

/** Syntax-checks every expression of a template string; returns the error messages. */
export function checkTemplate(s: string): string[] {
  return findExpressionProblems(s);
}

/**
 * The bare expression text of an `if:` value. `${{ x }}` becomes `x`; text mixing literals and
 * expressions becomes a format() call, as GitHub does, so it evaluates to the same string.
 */
export function conditionText(value: unknown): string {
  const s = typeof value === "string" ? value : String(value);
  const trimmed = s.trim();
  if (!hasExpression(trimmed)) return trimmed;
  const scan = scanTemplate(trimmed);
  if (scan.unterminated !== undefined) return trimmed;
  const segs = scan.segments;
  const only = segs[0];
  if (segs.length === 1 && only?.kind === "expr") return only.expr;
  let fmt = "";
  const args: string[] = [];
  for (const seg of segs) {
    if (seg.kind === "text") fmt += seg.text.replace(/[{}]/g, (c) => c + c);
    else fmt += `{${args.push(seg.expr) - 1}}`;
  }
  return `format('${fmt.replace(/'/g, "''")}', ${args.join(", ")})`;
}
