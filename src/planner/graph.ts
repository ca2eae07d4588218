// Runs one workflow's jobs as a DAG: a job starts when everything it `needs` has finished, its
// `if` decides whether it runs (GitHub's job-level status semantics), its matrix fans it out into
// instances (fail-fast, max-parallel), and a job that calls a reusable workflow runs that
// workflow's jobs as a nested graph.
import { setMaxListeners } from "node:events";
import { evaluateCondition, evaluateTemplate, toExpressionString } from "../expressions/index.js";
import { dispatchInputs, expandMatrix } from "../workflow/index.js";
import type { JobTemplate, Workflow } from "../workflow/model.js";
import type { Conclusion } from "../runner/types.js";
import type { JobReport, RunOptions } from "./types.js";
import { runInstance, type InstanceOutcome, type InstancePlan } from "./instance.js";
import { Limiter } from "./limiter.js";
import { jobPermissions } from "./permissions.js";
import type { Permissions } from "../workflow/index.js";

export interface JobOutcome {
  result: Conclusion;
  outputs: Record<string, string>;
  /** This job or one of its ancestors failed (GitHub's job-level failure()). */
  failedLineage: boolean;
  /** This job and all its ancestors succeeded (GitHub's job-level success(), actions/runner#2205). */
  cleanLineage: boolean;
}

export interface GraphScope {
  workflow: Workflow;
  idPrefix: string;
  namePrefix: string;
  /** The key of the calling job instance plus "/" ("" at the top): keeps the jobs of every matrix leg of a caller apart. */
  keyPrefix: string;
  inputs: Record<string, unknown>;
  secrets: Record<string, string>;
  github: Record<string, unknown>;
  only?: Set<string>;
  /** Inside a called workflow: the calling job's permissions, which its jobs cannot exceed. */
  permissionsCap?: Permissions;
}

export interface RunState {
  opts: RunOptions;
  reports: JobReport[];
}

/** Records a job's report and tells the reporter; `key` tells matrix instances apart. */
export function recordJob(
  state: RunState,
  fields: Pick<JobReport, "id" | "name" | "workflow" | "matrix" | "conclusion"> & Partial<JobReport>,
  key: string,
): JobReport {
  const report: JobReport = { continueOnError: false, outputs: {}, durationMs: 0, steps: [], ...fields };
  state.reports.push(report);
  const { id, name, workflow, matrix } = report;
  state.opts.reporter.jobFinished({ key, id, name, workflow, matrix }, report);
  return report;
}

const STATUS_FN = /\b(success|failure|always|cancelled)\s*\(/i;

export async function runGraph(state: RunState, scope: GraphScope): Promise<Map<string, JobOutcome>> {
  const byId = new Map(scope.workflow.jobs.map((j) => [j.id, j]));
  const promises = new Map<string, Promise<JobOutcome>>();
  const outcomeOf = (id: string): Promise<JobOutcome> => {
    let p = promises.get(id);
    if (!p) {
      const job = byId.get(id);
      p = job
        ? runJobNode(state, scope, job, outcomeOf)
        : Promise.resolve({ result: "skipped", outputs: {}, failedLineage: false, cleanLineage: false });
      promises.set(id, p);
    }
    return p;
  };
  const wanted = scope.only ? withNeeds(scope.workflow, scope.only) : new Set(byId.keys());
  // Start every job first (each waits for its own needs), then collect: jobs run in parallel.
  const started = [...wanted].map((id) => [id, outcomeOf(id)] as const);
  const results = new Map<string, JobOutcome>();
  for (const [id, p] of started) results.set(id, await p);
  return results;
}

function withNeeds(workflow: Workflow, only: Set<string>): Set<string> {
  const byId = new Map(workflow.jobs.map((j) => [j.id, j]));
  const out = new Set<string>();
  const visit = (id: string): void => {
    if (out.has(id)) return;
    out.add(id);
    for (const n of byId.get(id)?.needs ?? []) visit(n);
  };
  for (const id of only) visit(id);
  return out;
}

async function runJobNode(
  state: RunState,
  scope: GraphScope,
  job: JobTemplate,
  outcomeOf: (id: string) => Promise<JobOutcome>,
): Promise<JobOutcome> {
  const needOutcomes = await Promise.all(job.needs.map(async (n) => [n, await outcomeOf(n)] as const));
  const needs = Object.fromEntries(
    needOutcomes.map(([n, o]) => [n, { result: o.result, outputs: o.outputs }]),
  );
  const failedLineage = needOutcomes.some(([, o]) => o.failedLineage);
  const allNeedsSucceeded = needOutcomes.every(([, o]) => o.cleanLineage);
  const cancelled = state.opts.signal.aborted;
  const ctx = {
    github: { ...scope.github, job: job.id },
    needs,
    vars: state.opts.vars,
    inputs: scope.inputs,
  };
  const baseId = scope.idPrefix + job.id;
  const skip = (error?: string, result: Conclusion = "skipped"): JobOutcome => {
    recordJob(
      state,
      {
        id: baseId,
        name: scope.namePrefix + nameWithoutMatrix(job, ctx),
        workflow: scope.workflow.file,
        matrix: null,
        conclusion: result,
        ...(error === undefined ? {} : { error }),
      },
      `${scope.keyPrefix}${scope.workflow.file}#${baseId}`,
    );
    return { result, outputs: {}, failedLineage: failedLineage || result === "failure", cleanLineage: false };
  };

  let run: boolean;
  try {
    const usesStatus = job.if !== undefined && STATUS_FN.test(job.if);
    const failed = usesStatus ? failedLineage : failedLineage || !allNeedsSucceeded;
    // success() needs every ancestor to have succeeded (a skipped one too), failure() a failed one.
    run = evaluateCondition(job.if, ctx, { status: { failed, cancelled, succeeded: allNeedsSucceeded } });
  } catch (err) {
    return skip(`if: ${(err as Error).message}`, "failure");
  }
  if (!run) return skip();

  let combos: Array<Record<string, unknown> | null>;
  let failFast = true;
  let maxParallel = Infinity;
  try {
    const strategy = job.strategy;
    if (strategy?.matrix !== undefined) {
      const matrix = evaluateTemplate(strategy.matrix, ctx);
      if (matrix === null || typeof matrix !== "object" || Array.isArray(matrix)) {
        throw new Error(`strategy.matrix must be a mapping, got ${toExpressionString(matrix)}`);
      }
      combos = expandMatrix(matrix as Record<string, unknown>);
      const wanted = state.opts.matrixFilter;
      // A job none of whose legs match is skipped, not run with an empty matrix.
      if (wanted && (combos = combos.filter((leg) => legMatches(leg, wanted))).length === 0) return skip();
    } else {
      combos = [null];
    }
    if (strategy?.failFast !== undefined) failFast = Boolean(evaluateTemplate(strategy.failFast, ctx));
    if (strategy?.maxParallel !== undefined) {
      const mp = Number(evaluateTemplate(strategy.maxParallel, ctx));
      if (Number.isFinite(mp) && mp >= 1) maxParallel = Math.floor(mp);
    }
  } catch (err) {
    return skip(`strategy: ${(err as Error).message}`, "failure");
  }

  const group = new AbortController();
  // Every instance of a large matrix listens on it: not a leak.
  setMaxListeners(0, group.signal);
  const onRunAbort = (): void => group.abort();
  state.opts.signal.addEventListener("abort", onRunAbort);
  const limiter = new Limiter(Math.min(maxParallel, combos.length));
  const strategyCtx = {
    "fail-fast": failFast,
    "job-total": combos.length,
    "max-parallel": Math.min(maxParallel, combos.length),
  };
  const outcomes: Array<{
    conclusion: Conclusion;
    continueOnError: boolean;
    outputs: Record<string, string>;
  }> = [];
  try {
    await Promise.all(
      combos.map((matrix, index) =>
        limiter.run(async () => {
          const plan: InstancePlan = {
            job,
            scope,
            baseId,
            matrix,
            index,
            strategy: { ...strategyCtx, "job-index": index },
            needs,
            signal: group.signal,
          };
          const out = job.uses ? await runCalled(state, plan) : await runInstance(state, plan);
          outcomes.push(out);
          if (failFast && out.conclusion === "failure" && !out.continueOnError) group.abort();
        }),
      ),
    );
  } finally {
    state.opts.signal.removeEventListener("abort", onRunAbort);
  }
  const effective = outcomes.map((o) =>
    o.continueOnError && o.conclusion === "failure" ? "success" : o.conclusion,
  );
  const result: Conclusion = effective.includes("failure")
    ? "failure"
    : effective.includes("cancelled")
      ? "cancelled"
      : "success";
  const outputs: Record<string, string> = {};
  for (const o of outcomes) Object.assign(outputs, o.outputs);
  return {
    result,
    outputs,
    failedLineage: failedLineage || result === "failure",
    cleanLineage: result === "success" && allNeedsSucceeded,
  };
}

function legMatches(leg: Record<string, unknown> | null, wanted: Record<string, string[]>): boolean {
  return Object.entries(leg ?? {}).every(
    ([k, v]) => wanted[k] === undefined || wanted[k].includes(toExpressionString(v)),
  );
}

function nameWithoutMatrix(job: JobTemplate, ctx: Record<string, unknown>): string {
  if (job.name === undefined) return job.id;
  try {
    return toExpressionString(evaluateTemplate(job.name, { ...ctx, matrix: {}, strategy: {} }));
  } catch {
    return job.id;
  }
}

/**
 * GitHub's contexts for a calling job's `name:`, `with:` and the like: no `secrets`, which only its
 * `secrets:` mapping may read (a secret in `with:` would become a called job's input, stored and
 * logged in clear). Referring to another context there fails the job.
 */
const CALLER_CONTEXTS = ["github", "needs", "strategy", "matrix", "inputs", "vars"] as const;

/** A job that calls a reusable workflow: its jobs run as a nested graph. */
async function runCalled(state: RunState, plan: InstancePlan): Promise<InstanceOutcome> {
  const { job, scope } = plan;
  const ctx = {
    github: { ...scope.github, job: job.id },
    needs: plan.needs,
    vars: state.opts.vars,
    inputs: scope.inputs,
    matrix: plan.matrix ?? {},
    strategy: plan.strategy,
  };
  const noSecrets = { contexts: CALLER_CONTEXTS };
  const at = (key: string, err: unknown): string => `job '${job.id}': ${key}: ${(err as Error).message}`;
  const suffix = plan.matrix ? ` (${Object.values(plan.matrix).map(toExpressionString).join(", ")})` : "";
  let callerName = job.id + suffix;
  let nameError: string | undefined;
  try {
    if (job.name !== undefined)
      callerName = toExpressionString(evaluateTemplate(job.name, ctx, noSecrets)) + suffix;
  } catch (err) {
    nameError = at("name", err);
  }
  const callerKey = `${scope.keyPrefix}${scope.workflow.file}#${plan.baseId}#${plan.index}`;
  const base = {
    id: plan.baseId,
    name: scope.namePrefix + callerName,
    workflow: scope.workflow.file,
    matrix: plan.matrix,
  };
  const fail = (error: string): InstanceOutcome => {
    recordJob(state, { ...base, conclusion: "failure", error }, callerKey);
    return { conclusion: "failure", continueOnError: false, outputs: {} };
  };
  if (nameError !== undefined) return fail(nameError);
  const started = Date.now();
  let called: Workflow;
  let inputs: Record<string, unknown>;
  let secrets: Record<string, string>;
  try {
    called = await state.opts.loadCalledWorkflow(job.uses ?? "");
    const call = called.on.workflow_call;
    if (!call) throw new Error(`${job.uses} is not a reusable workflow (it has no 'on: workflow_call')`);
    let given: Record<string, unknown>;
    try {
      given = evaluateTemplate(job.with ?? {}, ctx, noSecrets) as Record<string, unknown>;
    } catch (err) {
      throw new Error(at("with", err), { cause: err });
    }
    const values = Object.fromEntries(Object.entries(given).map(([k, v]) => [k, toExpressionString(v)]));
    // A default may be an expression (github, inputs, vars): evaluate it here, then type it like a value.
    const defaultCtx = { github: scope.github, inputs: given, vars: state.opts.vars };
    for (const [name, def] of Object.entries(call.inputs ?? {})) {
      if (Object.hasOwn(values, name) || typeof def.default !== "string" || !def.default.includes("${{"))
        continue;
      values[name] = toExpressionString(evaluateTemplate(def.default, defaultCtx));
    }
    const resolved = dispatchInputs(
      { ...called, on: { workflow_dispatch: { inputs: call.inputs ?? {} } } },
      values,
    );
    if (resolved.problems.length > 0) throw new Error(resolved.problems.join("; "));
    inputs = resolved.inputs;
    if (job.secrets === "inherit") secrets = scope.secrets;
    else {
      secrets = {};
      for (const [k, v] of Object.entries(job.secrets ?? {}))
        secrets[k] = toExpressionString(evaluateTemplate(v, { ...ctx, secrets: scope.secrets }));
      if (scope.secrets.GITHUB_TOKEN !== undefined) secrets.GITHUB_TOKEN = scope.secrets.GITHUB_TOKEN;
    }
    for (const [name, def] of Object.entries(call.secrets ?? {})) {
      if (def.required && !(name in secrets)) throw new Error(`secret '${name}' is required by ${job.uses}`);
    }
  } catch (err) {
    return fail((err as Error).message);
  }
  const inner = await runGraph(state, {
    workflow: called,
    idPrefix: `${plan.baseId}/`,
    namePrefix: `${scope.namePrefix}${callerName} / `,
    keyPrefix: `${callerKey}/`,
    inputs,
    secrets,
    github: scope.github,
    permissionsCap: jobPermissions(scope, job),
  });
  const results = [...inner.values()].map((o) => o.result);
  const conclusion: Conclusion = results.includes("failure")
    ? "failure"
    : results.includes("cancelled")
      ? "cancelled"
      : "success";
  const jobs = Object.fromEntries(
    [...inner].map(([id, o]) => [id, { result: o.result, outputs: o.outputs }]),
  );
  const outputs: Record<string, string> = {};
  try {
    for (const [name, def] of Object.entries(called.on.workflow_call?.outputs ?? {})) {
      outputs[name] = toExpressionString(
        evaluateTemplate(def.value, { github: scope.github, jobs, inputs, vars: state.opts.vars }),
      );
    }
  } catch (err) {
    return fail(`outputs: ${(err as Error).message}`);
  }
  let continueOnError: boolean;
  try {
    continueOnError =
      job.continueOnError !== undefined && Boolean(evaluateTemplate(job.continueOnError, ctx, noSecrets));
  } catch (err) {
    return fail(at("continue-on-error", err));
  }
  recordJob(
    state,
    { ...base, conclusion, continueOnError, outputs, durationMs: Date.now() - started },
    callerKey,
  );
  return { conclusion, continueOnError, outputs };
}
