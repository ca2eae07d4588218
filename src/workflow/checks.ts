// Our own checks on top of the parser's: expression syntax in every string (with
// @actions/expressions), step/job shape, literal matrices, contradictory trigger filters.
// A finding is dropped when the parser already reported something on the same lines, so the
// user sees one message per mistake.
import { isMap, isScalar, isSeq, type Node } from "yaml";
import type { Problem } from "../errors/index.js";
import { isAirlockError } from "../errors/index.js";
import { checkExpression, checkTemplate, hasExpression } from "./expressions.js";
import { expandMatrix } from "./matrix.js";
import { entries, get, lineSpan, problemAt, resolve, type YamlSource } from "./yaml-source.js";

export interface Finding {
  problem: Problem;
  lines: [number, number];
  /** Clearer than what the parser says about the same mistake: always reported. */
  preferred?: boolean;
}

function finding(
  src: YamlSource,
  node: Node | null | undefined,
  message: string,
  preferred = false,
): Finding {
  return { problem: problemAt(src, node, message), lines: lineSpan(src, node), preferred };
}

/** Keys whose value is a condition: a bare expression even without `${{ }}`. */
const CONDITION_KEYS = new Set(["if", "pre-if", "post-if"]);
/** Under these keys, names are user data (an input may be called `if`). */
const DATA_KEYS = new Set(["with", "env", "inputs", "outputs", "secrets", "matrix"]);

export function expressionFindings(
  src: YamlSource,
  node: unknown,
  out: Finding[],
  key?: string,
  dataParent = false,
): void {
  const n = resolve(src, node);
  if (isMap(n)) {
    for (const e of entries(src, n)) expressionFindings(src, e.value, out, e.key, DATA_KEYS.has(e.key));
  } else if (isSeq(n)) {
    for (const item of n.items) expressionFindings(src, item, out);
  } else if (isScalar(n) && typeof n.value === "string") {
    const s = n.value;
    const isCondition = key !== undefined && CONDITION_KEYS.has(key) && !dataParent;
    if (isCondition && !hasExpression(s)) {
      const err = checkExpression(s);
      if (err !== undefined) out.push(finding(src, n, `Invalid condition '${s}': ${err}`));
    } else if (hasExpression(s)) {
      for (const err of checkTemplate(s)) out.push(finding(src, n, err));
    }
  }
}

export function stepFindings(src: YamlSource, steps: unknown, out: Finding[]): void {
  const list = resolve(src, steps);
  if (!isSeq(list)) return;
  for (const item of list.items) {
    const step = resolve(src, item);
    if (!isMap(step)) continue;
    const hasRun = get(src, step, "run") !== undefined;
    const uses = get(src, step, "uses");
    const hasUses = uses !== undefined;
    if (hasRun && hasUses) out.push(finding(src, step, "A step cannot have both 'run' and 'uses'", true));
    if (!hasRun && !hasUses) out.push(finding(src, step, "A step must have either 'run' or 'uses'", true));
    const value = resolve(src, uses);
    if (isScalar(value) && typeof value.value === "string" && !wellFormedUses(value.value))
      out.push(finding(src, value, `Expected format {org}/{repo}[/path]@ref. Actual '${value.value}'`, true));
  }
}

/**
 * GitHub's own shape rule for a step's `uses:` (actions/runner WorkflowTemplateConverter): a
 * docker:// image or ./local path, else owner/repo[/path]@ref with exactly one @ and a ref.
 */
function wellFormedUses(uses: string): boolean {
  if (uses.startsWith("docker://") || uses.startsWith("./") || uses.startsWith(".\\")) return true;
  const at = uses.split("@");
  const path = (at[0] ?? "").split(/[/\\]/).filter((p) => p !== "");
  return at.length === 2 && path.length >= 2 && (at[1] ?? "") !== "";
}

function containsExpression(v: unknown): boolean {
  if (typeof v === "string") return hasExpression(v);
  if (Array.isArray(v)) return v.some(containsExpression);
  if (typeof v === "object" && v !== null)
    return Object.entries(v).some(([k, x]) => hasExpression(k) || containsExpression(x));
  return false;
}

function matrixFindings(src: YamlSource, matrix: Node | null | undefined, out: Finding[]): void {
  if (!isMap(matrix)) return;
  const value: unknown = matrix.toJS(src.doc);
  if (containsExpression(value)) return; // known only when the job is planned
  try {
    expandMatrix(value as Record<string, unknown>);
  } catch (err) {
    if (!isAirlockError(err)) throw err;
    out.push(finding(src, matrix, err.message));
  }
}

const EXCLUSIVE: Array<[string, string]> = [
  ["branches", "branches-ignore"],
  ["tags", "tags-ignore"],
  ["paths", "paths-ignore"],
];

export function workflowFindings(src: YamlSource): Finding[] {
  const out: Finding[] = [];
  const root = src.doc.contents;
  expressionFindings(src, root, out);
  for (const ev of entries(src, get(src, root, "on"))) {
    for (const [a, b] of EXCLUSIVE) {
      if (get(src, ev.value, a) !== undefined && get(src, ev.value, b) !== undefined)
        out.push(finding(src, ev.keyNode, `'${ev.key}' cannot use both '${a}' and '${b}'`));
    }
  }
  for (const job of entries(src, get(src, root, "jobs"))) {
    if (!isMap(job.value)) continue;
    const steps = get(src, job.value, "steps");
    if (steps === undefined && get(src, job.value, "uses") === undefined)
      out.push(finding(src, job.keyNode, `Job '${job.key}' must have either 'steps' or 'uses'`));
    stepFindings(src, steps, out);
    matrixFindings(src, get(src, get(src, job.value, "strategy"), "matrix"), out);
  }
  return out;
}

/** Parser problems, plus our findings on lines the parser said nothing about; sorted by position. */
export function mergeProblems(parser: Problem[], findings: Finding[]): Problem[] {
  const preferred = findings.filter((f) => f.preferred).map((f) => f.problem);
  const mine = findings
    .filter((f) => !f.preferred && !parser.some((p) => p.line >= f.lines[0] && p.line <= f.lines[1]))
    .map((f) => f.problem);
  const seen = new Set<string>();
  return [...preferred, ...parser, ...mine]
    .sort((a, b) => a.line - b.line || a.col - b.col)
    .filter((p) => {
      // One message per position: the parser sometimes reports the same mistake twice (the
      // schema reader, then the converter re-parsing it), the first is the clearer one.
      const k = `${p.line}:${p.col}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
}
