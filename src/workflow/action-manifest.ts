// parseActionManifest: validate an action.yml with GitHub's action schema and build the
// ActionManifest the runner uses. Composite steps share the workflow StepTemplate shape.
import type { Problem } from "../errors/index.js";
import type { ActionManifest } from "../runner/types.js";
import { asObj, buildStep, type Obj } from "./build.js";
import { expressionFindings, mergeProblems, stepFindings, type Finding } from "./checks.js";
import { conditionText } from "./expressions.js";
import { actionSchemaProblems } from "./schema.js";
import { yamlBoundProblems } from "./guard.js";
import { get, readYaml } from "./yaml-source.js";

const NODE_VERSIONS = ["node12", "node16", "node20", "node24"] as const;

function text(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  return typeof v === "string" ? v : JSON.stringify(v);
}

function truthy(v: unknown): boolean {
  return v === true || (typeof v === "string" && v.trim().toLowerCase() === "true");
}

function buildRuns(runs: Obj): ActionManifest["runs"] | string {
  const using = text(runs.using) ?? "";
  if (using === "composite") {
    return { using, steps: Array.isArray(runs.steps) ? runs.steps.map(buildStep) : [] };
  }
  if ((NODE_VERSIONS as readonly string[]).includes(using)) {
    const out: ActionManifest["runs"] = {
      using: using as (typeof NODE_VERSIONS)[number],
      main: text(runs.main) ?? "",
    };
    const pre = text(runs.pre);
    const post = text(runs.post);
    if (pre !== undefined) out.pre = pre;
    if (post !== undefined) out.post = post;
    if (runs["pre-if"] !== undefined && runs["pre-if"] !== null) out.preIf = conditionText(runs["pre-if"]);
    if (runs["post-if"] !== undefined && runs["post-if"] !== null)
      out.postIf = conditionText(runs["post-if"]);
    return out;
  }
  if (using === "docker") {
    const out: ActionManifest["runs"] = { using, image: text(runs.image) ?? "" };
    if (Array.isArray(runs.args)) out.args = runs.args as unknown[];
    const entrypoint = text(runs.entrypoint);
    if (entrypoint !== undefined) out.entrypoint = entrypoint;
    const env = asObj(runs.env);
    if (env) out.env = env;
    const pre = text(runs["pre-entrypoint"]);
    const post = text(runs["post-entrypoint"]);
    if (pre !== undefined) out.preEntrypoint = pre;
    if (post !== undefined) out.postEntrypoint = post;
    if (runs["pre-if"] !== undefined && runs["pre-if"] !== null) out.preIf = conditionText(runs["pre-if"]);
    if (runs["post-if"] !== undefined && runs["post-if"] !== null)
      out.postIf = conditionText(runs["post-if"]);
    return out;
  }
  return `Unsupported 'runs.using' value '${using}'`;
}

export function parseActionManifest(
  file: string,
  content: string,
): { manifest?: ActionManifest; problems: Problem[] } {
  const bounds = yamlBoundProblems(file, content);
  if (bounds.length > 0) return { problems: bounds };
  // The runner itself does not insist on `name` and `description` (the metadata docs call them
  // required, but actions without them run on GitHub): accept them missing.
  const parserProblems = actionSchemaProblems(file, content).filter(
    (p) => !/^Required property is missing: (name|description)$/.test(p.message),
  );
  const src = readYaml(file, content);
  if (src.doc.errors.length > 0) return { problems: parserProblems };
  const findings: Finding[] = [];
  const root = src.doc.contents;
  expressionFindings(src, root, findings);
  stepFindings(src, get(src, get(src, root, "runs"), "steps"), findings);
  const problems = mergeProblems(parserProblems, findings);
  if (problems.length > 0) return { problems };

  const raw = asObj(src.doc.toJS({ maxAliasCount: 1000 })) ?? {};
  const runs = buildRuns(asObj(raw.runs) ?? {});
  if (typeof runs === "string") {
    const node = get(src, get(src, root, "runs"), "using");
    const pos = node?.range ? src.lines.linePos(node.range[0]) : { line: 1, col: 1 };
    return { problems: [{ file, line: pos.line, col: pos.col, message: runs }] };
  }
  const inputs: ActionManifest["inputs"] = {};
  for (const [name, v] of Object.entries(asObj(raw.inputs) ?? {})) {
    const d = asObj(v) ?? {};
    const input: ActionManifest["inputs"][string] = { required: truthy(d.required) };
    if (d.default !== undefined && d.default !== null) input.default = d.default;
    const deprecation = text(d.deprecationMessage);
    if (deprecation !== undefined) input.deprecationMessage = deprecation;
    inputs[name] = input;
  }
  const outputs: ActionManifest["outputs"] = {};
  for (const [name, v] of Object.entries(asObj(raw.outputs) ?? {})) {
    const d = asObj(v) ?? {};
    const output: ActionManifest["outputs"][string] = {};
    if (d.value !== undefined && d.value !== null) output.value = d.value;
    const description = text(d.description);
    if (description !== undefined) output.description = description;
    outputs[name] = output;
  }
  const manifest: ActionManifest = { name: text(raw.name) ?? file, inputs, outputs, runs };
  const description = text(raw.description);
  if (description !== undefined) manifest.description = description;
  return { manifest, problems: [] };
}
