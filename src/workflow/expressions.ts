// Finding and syntax-checking `${{ }}` expressions inside workflow strings, and turning a
// workflow `if:` value into the bare expression text the model stores.
import { Lexer, Parser } from "@actions/expressions";

/** Every context name an expression may use somewhere; which one is allowed where is the schema's job. */
const CONTEXTS = [
  "github",
  "env",
  "vars",
  "job",
  "jobs",
  "steps",
  "runner",
  "secrets",
  "strategy",
  "matrix",
  "needs",
  "inputs",
];

/** Functions the runner provides on top of @actions/expressions' well-known ones. */
const FUNCTIONS = [
  { name: "success", minArgs: 0, maxArgs: 0 },
  { name: "always", minArgs: 0, maxArgs: 0 },
  { name: "failure", minArgs: 0, maxArgs: 0 },
  { name: "cancelled", minArgs: 0, maxArgs: 0 },
  { name: "hashFiles", minArgs: 1, maxArgs: 255 },
];

export type Segment =
  | { kind: "text"; text: string }
  | { kind: "expr"; text: string; start: number }
  | { kind: "unclosed"; start: number };

/**
 * Splits a string into literal text and `${{ }}` expressions. A `}}` inside a single-quoted
 * expression string literal does not close the expression (GitHub's reader does the same).
 */
export function splitTemplate(s: string): Segment[] {
  const out: Segment[] = [];
  let pos = 0;
  for (;;) {
    const open = s.indexOf("${{", pos);
    if (open < 0) break;
    if (open > pos) out.push({ kind: "text", text: s.slice(pos, open) });
    let i = open + 3;
    let inString = false;
    let close = -1;
    for (; i < s.length; i++) {
      const c = s[i];
      if (inString) {
        if (c === "'") {
          if (s[i + 1] === "'") i++;
          else inString = false;
        }
      } else if (c === "'") inString = true;
      else if (c === "}" && s[i + 1] === "}") {
        close = i;
        break;
      }
    }
    if (close < 0) {
      out.push({ kind: "unclosed", start: open });
      return out;
    }
    out.push({ kind: "expr", text: s.slice(open + 3, close).trim(), start: open });
    pos = close + 2;
  }
  if (pos < s.length) out.push({ kind: "text", text: s.slice(pos) });
  return out;
}

export function hasExpression(s: string): boolean {
  return s.includes("${{");
}

/** Syntax-checks one bare expression; returns the error message, or undefined when it parses. */
export function checkExpression(expr: string): string | undefined {
  if (expr.trim() === "") return "An expression was expected";
  try {
    const { tokens } = new Lexer(expr).lex();
    new Parser(tokens, CONTEXTS, FUNCTIONS).parse();
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** Syntax-checks every expression of a template string; returns the error messages. */
export function checkTemplate(s: string): string[] {
  const errors: string[] = [];
  for (const seg of splitTemplate(s)) {
    if (seg.kind === "unclosed") errors.push("The expression is not closed: '${{' without a matching '}}'");
    else if (seg.kind === "expr") {
      const err = checkExpression(seg.text);
      if (err !== undefined) errors.push(`Invalid expression '${seg.text}': ${err}`);
    }
  }
  return errors;
}

/**
 * The bare expression text of an `if:` value. `${{ x }}` becomes `x`; text mixing literals and
 * expressions becomes a format() call, as GitHub does, so it evaluates to the same string.
 */
export function conditionText(value: unknown): string {
  const s = typeof value === "string" ? value : String(value);
  const trimmed = s.trim();
  if (!hasExpression(trimmed)) return trimmed;
  const segs = splitTemplate(trimmed);
  const only = segs[0];
  if (segs.length === 1 && only?.kind === "expr") return only.text;
  if (segs.some((x) => x.kind === "unclosed")) return trimmed;
  let fmt = "";
  const args: string[] = [];
  for (const seg of segs) {
    if (seg.kind === "text") fmt += seg.text.replace(/[{}]/g, (c) => c + c);
    else if (seg.kind === "expr") fmt += `{${args.push(seg.text) - 1}}`;
  }
  return `format('${fmt.replace(/'/g, "''")}', ${args.join(", ")})`;
}
