// Builds the plain workflow model (model.ts) from the raw YAML value. Runs only on files that
// passed validation, so shapes are known; it still guards types rather than trusting casts.
// Values are copied as written: `${{ }}` text is kept, evaluation happens later.
import { conditionText } from "./expressions.js";
import { buildPermissions } from "./permissions.js";
import type {
  ConcurrencyTemplate,
  EventFilter,
  InputDef,
  JobTemplate,
  RunDefaults,
  StepTemplate,
  StrategyTemplate,
  Template,
  Workflow,
} from "./model.js";

export type Obj = Record<string, unknown>;

export function asObj(v: unknown): Obj | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;
}

function strList(v: unknown): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  return (Array.isArray(v) ? v : [v]).map((x) => str(x) ?? "");
}

/** Scalars as text (validated files hold scalars where this is used). */
function str(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return JSON.stringify(v);
}

function templateMap(v: unknown): Record<string, Template> | undefined {
  const o = asObj(v);
  return o === undefined ? undefined : { ...o };
}

/** Copies defined values only, so the model serialises without `undefined` holes. */
function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] === undefined) delete o[k];
  return o;
}

export function buildStep(raw: unknown): StepTemplate {
  const s = asObj(raw) ?? {};
  return compact<StepTemplate>({
    id: str(s.id),
    name: s.name,
    if: s.if === undefined || s.if === null ? undefined : conditionText(s.if),
    uses: str(s.uses),
    run: s.run,
    shell: s.shell,
    workingDirectory: s["working-directory"],
    with: templateMap(s.with),
    env: templateMap(s.env),
    continueOnError: s["continue-on-error"],
    timeoutMinutes: s["timeout-minutes"],
  });
}

function buildDefaults(raw: unknown): RunDefaults | undefined {
  const run = asObj(asObj(raw)?.run);
  if (!run) return undefined;
  return compact<RunDefaults>({ shell: run.shell, workingDirectory: run["working-directory"] });
}

function buildStrategy(raw: unknown): StrategyTemplate | undefined {
  const s = asObj(raw);
  if (!s) return undefined;
  return compact<StrategyTemplate>({
    matrix: s.matrix,
    failFast: s["fail-fast"],
    maxParallel: s["max-parallel"],
  });
}

function buildEnvironment(raw: unknown): JobTemplate["environment"] {
  if (raw === undefined || raw === null) return undefined;
  const o = asObj(raw);
  if (!o) return { name: raw };
  return compact<NonNullable<JobTemplate["environment"]>>({ name: o.name, url: o.url ?? undefined });
}

function buildConcurrency(raw: unknown): ConcurrencyTemplate | undefined {
  if (raw === undefined || raw === null) return undefined;
  const o = asObj(raw);
  if (!o) return { group: raw };
  return compact<ConcurrencyTemplate>({
    group: o.group,
    cancelInProgress: o["cancel-in-progress"] ?? undefined,
  });
}

function buildJob(id: string, raw: unknown): JobTemplate {
  const j = asObj(raw) ?? {};
  const secrets = j.secrets === "inherit" ? "inherit" : templateMap(j.secrets);
  return compact<JobTemplate>({
    id,
    name: j.name,
    needs: strList(j.needs) ?? [],
    if: j.if === undefined || j.if === null ? undefined : conditionText(j.if),
    runsOn: j["runs-on"],
    env: templateMap(j.env),
    defaults: buildDefaults(j.defaults),
    strategy: buildStrategy(j.strategy),
    timeoutMinutes: j["timeout-minutes"],
    continueOnError: j["continue-on-error"],
    outputs: templateMap(j.outputs),
    steps: Array.isArray(j.steps) ? j.steps.map(buildStep) : [],
    uses: str(j.uses),
    with: templateMap(j.with),
    secrets,
    environment: buildEnvironment(j.environment),
    container: j.container ?? undefined,
    services: j.services ?? undefined,
    permissions: buildPermissions(j.permissions),
    concurrency: buildConcurrency(j.concurrency),
  });
}

function buildInputs(raw: unknown): Record<string, InputDef> | undefined {
  const o = asObj(raw);
  if (!o) return undefined;
  const out: Record<string, InputDef> = {};
  for (const [name, v] of Object.entries(o)) {
    const d = asObj(v) ?? {};
    const type = (str(d.type) ?? "string") as InputDef["type"];
    out[name] = compact<InputDef>({
      type,
      required: d.required === true,
      default: d.default === null ? undefined : d.default,
      options: strList(d.options),
      description: str(d.description),
    });
  }
  return out;
}

function buildFilter(event: string, raw: unknown): EventFilter {
  if (event === "schedule") {
    const crons = (Array.isArray(raw) ? raw : [])
      .map((x) => str(asObj(x)?.cron))
      .filter((x) => x !== undefined);
    return { cron: crons };
  }
  const f = asObj(raw);
  if (!f) return {};
  const outputs = asObj(f.outputs);
  const secrets = asObj(f.secrets);
  return compact<EventFilter>({
    branches: strList(f.branches),
    branchesIgnore: strList(f["branches-ignore"]),
    tags: strList(f.tags),
    tagsIgnore: strList(f["tags-ignore"]),
    paths: strList(f.paths),
    pathsIgnore: strList(f["paths-ignore"]),
    types: strList(f.types),
    workflows: strList(f.workflows),
    inputs: buildInputs(f.inputs),
    outputs: outputs
      ? Object.fromEntries(
          Object.entries(outputs).map(([k, v]) => {
            const o = asObj(v) ?? {};
            return [k, compact({ value: str(o.value) ?? "", description: str(o.description) })];
          }),
        )
      : undefined,
    secrets: secrets
      ? Object.fromEntries(
          Object.entries(secrets).map(([k, v]) => {
            const o = asObj(v) ?? {};
            return [k, compact({ required: o.required === true, description: str(o.description) })];
          }),
        )
      : undefined,
  });
}

/** `on:` in its string, list and mapping forms → event name → filter. */
export function buildOn(raw: unknown): Record<string, EventFilter> {
  if (typeof raw === "string") return { [raw]: {} };
  if (Array.isArray(raw)) return Object.fromEntries(raw.map((e) => [String(e), {}]));
  const o = asObj(raw) ?? {};
  return Object.fromEntries(Object.entries(o).map(([event, f]) => [event, buildFilter(event, f)]));
}

export function buildWorkflow(file: string, raw: Obj): Workflow {
  const jobs = asObj(raw.jobs) ?? {};
  return compact<Workflow>({
    file,
    name: str(raw.name) ?? file,
    runName: raw["run-name"],
    on: buildOn(raw.on),
    env: templateMap(raw.env) ?? {},
    defaults: buildDefaults(raw.defaults),
    permissions: buildPermissions(raw.permissions),
    concurrency: buildConcurrency(raw.concurrency),
    jobs: Object.entries(jobs).map(([id, j]) => buildJob(id, j)),
  });
}
