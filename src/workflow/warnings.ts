// Validation-time warnings for what a workflow may say but Airlock does not (yet) honour: the file
// is valid (GitHub accepts it, so do we) but a user would otherwise learn only from a failing step
// or a run that never starts. Each warning names its file:line:col; a job's warnings are also
// written at the top of that job's log (src/planner/instance.ts → JobDescription.warnings).
// docs/compatibility.md lists the same features; keep the two together.
import { isMap, isScalar, isSeq, type Node } from "yaml";
import {
  checkOptions,
  checkVolume,
  isServiceName,
  parseVolume,
  SERVICE_NAME_RULE,
  splitWords,
} from "../containers/index.js";
import { formatProblem } from "../errors/index.js";
import type { WorkflowWarning } from "./model.js";
import { entries, get, problemAt, resolve, type YamlSource } from "./yaml-source.js";

/** Events the Airlock server starts runs for (src/sources/, src/orchestrator/). */
export const SERVER_EVENTS: ReadonlySet<string> = new Set([
  "push",
  "pull_request",
  "pull_request_target",
  "workflow_dispatch",
  "workflow_call",
  "schedule",
  "workflow_run",
  "repository_dispatch",
  "merge_group",
]);

/** Actions that need a service of the Airlock server, which `airlock run` does not have. */
const NEEDS_SERVICE: Array<[RegExp, string]> = [
  [/^actions\/(upload|download)-artifact(@|$)/i, "the artifact service of an Airlock server"],
  [/^actions\/cache(\/(save|restore))?(@|$)/i, "the cache service of an Airlock server"],
];

/** `secrets.GITHUB_TOKEN`, `secrets['GITHUB_TOKEN']` or `github.token` inside an expression. */
const TOKEN_REFERENCE =
  /\$\{\{[^}]*?(\bsecrets\s*\.\s*GITHUB_TOKEN\b|\bsecrets\s*\[\s*['"]GITHUB_TOKEN['"]\s*\]|\bgithub\s*\.\s*token\b)/i;

function firstScalar(src: YamlSource, node: unknown, test: (s: string) => boolean): Node | undefined {
  const n = resolve(src, node);
  if (isScalar(n)) return typeof n.value === "string" && test(n.value) ? n : undefined;
  if (isMap(n)) {
    for (const e of entries(src, n)) {
      const hit = firstScalar(src, e.value, test);
      if (hit) return hit;
    }
  }
  if (isSeq(n)) {
    for (const item of n.items) {
      const hit = firstScalar(src, item, test);
      if (hit) return hit;
    }
  }
  return undefined;
}

/**
 * Container options and volumes written as plain text that the default allow-list refuses
 * (src/containers): the job fails unless its pool allows them. Values with expressions are only
 * known when the job is planned, and checked then.
 */
function containerWarnings(src: YamlSource, id: string, job: Node, add: (n: Node, m: string) => void): void {
  const check = (what: string, node: unknown): void => {
    const spec = resolve(src, node);
    if (!isMap(spec)) return;
    const options = resolve(src, get(src, spec, "options"));
    if (isScalar(options) && typeof options.value === "string" && !options.value.includes("${{")) {
      try {
        checkOptions(splitWords(options.value, `${what} options`), {}, what);
      } catch (err) {
        const msg = (err as Error).message;
        // Only a refused-by-default option can be allowed by a pool (not --name, nor --user on a job container).
        const unless = msg.includes("a pool may allow it") ? " unless its pool allows it" : "";
        add(options, `${msg}: job '${id}' will fail${unless}`);
      }
    }
    const volumes = resolve(src, get(src, spec, "volumes"));
    for (const item of isSeq(volumes) ? volumes.items : []) {
      const v = resolve(src, item);
      if (!isScalar(v) || typeof v.value !== "string" || v.value.includes("${{")) continue;
      try {
        checkVolume(parseVolume(v.value, what), new Set(), what);
      } catch (err) {
        add(v, `${(err as Error).message}: job '${id}' will fail unless its pool allows it`);
      }
    }
  };
  check("container", get(src, job, "container"));
  for (const s of entries(src, get(src, job, "services"))) {
    if (!isServiceName(s.key))
      add(s.keyNode, `service '${s.key}': ${SERVICE_NAME_RULE}: job '${id}' will fail`);
    else check(`service '${s.key}'`, s.value);
  }
}

function jobWarnings(
  src: YamlSource,
  id: string,
  job: Node,
  add: (n: Node, m: string, localOnly?: boolean) => void,
): void {
  containerWarnings(src, id, job, add);
  const steps = resolve(src, get(src, job, "steps"));
  for (const item of isSeq(steps) ? steps.items : []) {
    const uses = resolve(src, get(src, item, "uses"));
    if (!isScalar(uses) || typeof uses.value !== "string") continue;
    const name = uses.value.trim();
    for (const [pattern, need] of NEEDS_SERVICE)
      if (pattern.test(name))
        add(uses, `'${name}' needs ${need}: under \`airlock run\` the step will fail or do nothing`, true);
  }
  const token = firstScalar(src, job, (s) => TOKEN_REFERENCE.test(s));
  if (token)
    add(
      token,
      `job '${id}' uses GITHUB_TOKEN, which is empty in Airlock jobs (no forge token is given to jobs): ` +
        "API calls with it will fail; pass a token of your own as a secret",
    );
}

/** The warnings of a valid workflow, in file order. */
export function workflowWarnings(src: YamlSource): WorkflowWarning[] {
  const out: WorkflowWarning[] = [];
  const root = src.doc.contents;
  const on = resolve(src, get(src, root, "on"));
  const events: Array<{ name: string; node: Node }> = isScalar(on)
    ? [{ name: String(on.value), node: on }]
    : isSeq(on)
      ? on.items.flatMap((i) => {
          const n = resolve(src, i);
          return isScalar(n) ? [{ name: String(n.value), node: n as Node }] : [];
        })
      : entries(src, on).map((e) => ({ name: e.key, node: e.keyNode }));
  for (const e of events)
    if (!SERVER_EVENTS.has(e.name))
      out.push({
        text: formatProblem(
          problemAt(
            src,
            e.node,
            `the Airlock server never starts runs for '${e.name}' events (\`airlock run ${e.name} -e payload.json\` runs them locally)`,
          ),
        ),
      });
  for (const job of entries(src, get(src, root, "jobs"))) {
    if (!isMap(job.value)) continue;
    jobWarnings(src, job.key, job.value, (n, m, localOnly) =>
      out.push({
        job: job.key,
        text: formatProblem(problemAt(src, n, m)),
        ...(localOnly ? { localOnly } : {}),
      }),
    );
  }
  return out;
}
