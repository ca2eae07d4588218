// `${{ }}` templates: finding expressions in strings, typed/interpolated evaluation, `if:` conditions.
import { AirlockError } from "../errors/index.js";
import { fromData, isTruthy, toExpressionString } from "./convert.js";
import {
  callsStatusFunction,
  contextNames,
  evaluateBare,
  expressionSyntaxProblems,
  parseExpression,
  evaluateAst,
} from "./evaluate.js";
import type { FunctionHost } from "./functions.js";

export type Segment = { kind: "text"; text: string } | { kind: "expr"; expr: string };

export interface Scan {
  segments: Segment[];
  /** Set when a `${{` has no closing `}}`. */
  unterminated?: string;
}

/**
 * Splits a string into literal text and expressions. The closing `}}` is searched outside
 * single-quoted literals, so `${{ format('{{0}}', x) }}` is one expression.
 */
export function scanTemplate(text: string): Scan {
  const segments: Segment[] = [];
  let i = 0;
  while (i < text.length) {
    const start = text.indexOf("${{", i);
    if (start < 0) break;
    if (start > i) segments.push({ kind: "text", text: text.slice(i, start) });
    let j = start + 3;
    let inString = false;
    let end = -1;
    while (j < text.length) {
      const c = text[j];
      if (c === "'")
        inString = !inString; // '' escapes toggle twice, which keeps us inside the literal
      else if (!inString && c === "}" && text[j + 1] === "}") {
        end = j;
        break;
      }
      j++;
    }
    if (end < 0) return { segments, unterminated: text.slice(start) };
    segments.push({ kind: "expr", expr: text.slice(start + 3, end).trim() });
    i = end + 2;
  }
  if (i < text.length) segments.push({ kind: "text", text: text.slice(i) });
  return { segments };
}

/** The bare expression when `text` is exactly one `${{ expr }}` (surrounding whitespace allowed). */
export function singleExpression(segments: Segment[]): string | undefined {
  const exprs = segments.filter((s) => s.kind === "expr");
  const onlyBlankText = segments.every((s) => s.kind === "expr" || s.text.trim() === "");
  const only = exprs[0];
  return exprs.length === 1 && onlyBlankText && only !== undefined ? only.expr : undefined;
}

function scanOrThrow(text: string): Segment[] {
  const scan = scanTemplate(text);
  if (scan.unterminated !== undefined) {
    throw new AirlockError(
      "EXPRESSION_INVALID",
      `Unterminated expression '${scan.unterminated}' (missing '}}')`,
    );
  }
  for (const s of scan.segments) {
    if (s.kind === "expr" && s.expr === "")
      throw new AirlockError("EXPRESSION_INVALID", `Empty expression in '${text}'`);
  }
  return scan.segments;
}

function evaluateString(text: string, ctx: Record<string, unknown>, host?: FunctionHost): unknown {
  if (!text.includes("${{")) return text;
  const segments = scanOrThrow(text);
  const single = singleExpression(segments);
  if (single !== undefined) return evaluateBare(single, ctx, host);
  return segments
    .map((s) => (s.kind === "text" ? s.text : toExpressionString(evaluateBare(s.expr, ctx, host))))
    .join("");
}

/** Whether a mapping key is GitHub's `${{ insert }}` directive. */
export function isInsertKey(key: string): boolean {
  return /^\s*\$\{\{\s*insert\s*\}\}\s*$/.test(key);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype;
}

/**
 * A sequence: an item that is exactly one expression and evaluates to a sequence is spliced into
 * the surrounding sequence (actions/runner TemplateUnraveler, "sequence insertion"); its items are
 * values, not templates, so they are not evaluated again.
 */
function evaluateSequence(items: unknown[], ctx: Record<string, unknown>, host?: FunctionHost): unknown[] {
  const out: unknown[] = [];
  for (const item of items) {
    if (typeof item === "string" && item.includes("${{")) {
      const single = singleExpression(scanOrThrow(item));
      if (single !== undefined) {
        const v = evaluateBare(single, ctx, host);
        if (Array.isArray(v)) out.push(...(v as unknown[]));
        else out.push(v);
        continue;
      }
    }
    out.push(evaluateTemplateValue(item, ctx, host));
  }
  return out;
}

/**
 * A mapping: keys may be expressions (evaluated to strings) and `${{ insert }}`, whose value (a
 * mapping as written, or an expression giving one) is merged in its place. As in GitHub's template
 * evaluator, a key given twice (case-insensitively) once insertions are done is an error.
 */
function evaluateMapping(
  value: Record<string, unknown>,
  ctx: Record<string, unknown>,
  host?: FunctionHost,
): Record<string, unknown> {
  const pairs: Array<[string, unknown]> = [];
  let inserted = false;
  for (const [k, v] of Object.entries(value)) {
    if (!isInsertKey(k)) {
      pairs.push([toExpressionString(evaluateString(k, ctx, host)), evaluateTemplateValue(v, ctx, host)]);
      continue;
    }
    inserted = true;
    // A mapping written under the key is a template; one an expression produced is a value.
    const nested = isPlainObject(v) ? evaluateMapping(v, ctx, host) : evaluateString(String(v), ctx, host);
    if (!isPlainObject(nested)) {
      const got = nested === null ? "null" : Array.isArray(nested) ? "a sequence" : typeof nested;
      throw new AirlockError("EXPRESSION_FAILED", `\${{ insert }} expects a mapping, got ${got}`);
    }
    pairs.push(...Object.entries(nested));
  }
  const out: Record<string, unknown> = {};
  const seen = new Set<string>();
  for (const [k, v] of pairs) {
    // Only where an insertion brought keys in: a mapping as written keeps its earlier meaning.
    if (inserted && seen.has(k.toLowerCase()))
      throw new AirlockError(
        "EXPRESSION_FAILED",
        `'${k}' is already defined (keys merged by \${{ insert }})`,
      );
    seen.add(k.toLowerCase());
    setOwn(out, k, v);
  }
  return out;
}

/** `obj[key] = value` as an own property even for `__proto__` (a key an expression may produce). */
export function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

export function evaluateTemplateValue(
  value: unknown,
  ctx: Record<string, unknown>,
  host?: FunctionHost,
): unknown {
  if (typeof value === "string") return evaluateString(value, ctx, host);
  if (Array.isArray(value)) return evaluateSequence(value, ctx, host);
  if (isPlainObject(value)) return evaluateMapping(value, ctx, host);
  return value;
}

/** GitHub `if:` semantics; see index.ts. */
export function evaluateIf(
  cond: string | undefined,
  ctx: Record<string, unknown>,
  host?: FunctionHost,
): boolean {
  const status = host?.status ?? { failed: false, cancelled: false };
  const success = (status.succeeded ?? true) && !status.failed && !status.cancelled;
  const text = (cond ?? "").trim();
  if (text === "") return success;
  const segments = text.includes("${{") ? scanOrThrow(text) : [{ kind: "expr" as const, expr: text }];
  const single = singleExpression(segments);
  if (single !== undefined) {
    const ast = parseExpression(single, contextNames(ctx));
    // Without a status function GitHub evaluates `success() && (cond)`: cond is not even evaluated on failure.
    if (!callsStatusFunction(ast) && !success) return false;
    return isTruthy(fromData(evaluateAst(ast, single, ctx, host)));
  }
  // Mixed text and expressions is a string, truthy when non-empty (GitHub's well-known pitfall).
  const usesStatus = segments.some(
    (s) => s.kind === "expr" && callsStatusFunction(parseExpression(s.expr, contextNames(ctx))),
  );
  if (!usesStatus && !success) return false;
  return isTruthy(evaluateString(text, ctx, host));
}

/** Syntax problems of every `${{ }}` in `text`, each naming the expression. */
export function templateProblems(text: string): string[] {
  const scan = scanTemplate(text);
  const problems: string[] = [];
  for (const s of scan.segments) {
    if (s.kind !== "expr") continue;
    if (s.expr === "") problems.push(`Empty expression in '${text}'`);
    else problems.push(...expressionSyntaxProblems(s.expr));
  }
  if (scan.unterminated !== undefined)
    problems.push(`Unterminated expression '${scan.unterminated}' (missing '}}')`);
  return problems;
}

export function conditionProblems(cond: string): string[] {
  const text = cond.trim();
  if (text === "") return [];
  return text.includes("${{") ? templateProblems(text) : expressionSyntaxProblems(text);
}
