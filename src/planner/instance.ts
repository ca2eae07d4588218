// Runs one job instance (one matrix combination) on a fresh single-use machine: evaluates the
// job-level fields GitHub evaluates on the server (name, runs-on, timeout, continue-on-error),
// builds the plain JobDescription (defaults.run as written: the runner evaluates it with the job
// env), runs the job runner and destroys the machine.
import { evaluateTemplate, toExpressionString } from "../expressions/index.js";
import type { Conclusion, JobDescription, RunnerEvent } from "../runner/types.js";
import type { JobTemplate } from "../workflow/model.js";
import { recordJob, type GraphScope, type RunState } from "./graph.js";
import { jobPermissions } from "./permissions.js";
import { evaluateConcurrency } from "./concurrency.js";
import { planContainer, planServices } from "../containers/index.js";
import type { Concurrency, JobInstance, JobReport } from "./types.js";

export interface InstancePlan {
  job: JobTemplate;
  scope: GraphScope;
  baseId: string;
  matrix: Record<string, unknown> | null;
  /** Position of this instance in the matrix (strategy.job-index). */
  index: number;
  strategy: Record<string, unknown>;
  needs: Record<string, { result: string; outputs: Record<string, string> }>;
  signal: AbortSignal;
}

export interface InstanceOutcome {
  conclusion: Conclusion;
  continueOnError: boolean;
  outputs: Record<string, string>;
}

const DEFAULT_TIMEOUT_MINUTES = 360;

export async function runInstance(state: RunState, plan: InstancePlan): Promise<InstanceOutcome> {
  const { opts } = state;
  const { job, scope, matrix } = plan;
  const ctx = {
    github: { ...scope.github, job: job.id },
    needs: plan.needs,
    vars: opts.vars,
    inputs: scope.inputs,
    matrix: matrix ?? {},
    strategy: plan.strategy,
  };
  const started = Date.now();
  const name = scope.namePrefix + displayName(job, ctx, matrix);
  const inst: JobInstance = {
    key: `${scope.keyPrefix}${scope.workflow.file}#${plan.baseId}#${plan.index}`,
    id: plan.baseId,
    name,
    workflow: scope.workflow.file,
    matrix,
  };
  const report: JobReport = {
    id: plan.baseId,
    name,
    workflow: scope.workflow.file,
    matrix,
    conclusion: "failure",
    continueOnError: false,
    outputs: {},
    durationMs: 0,
    steps: [],
  };
  const finish = (): InstanceOutcome => {
    report.durationMs = Date.now() - started;
    recordJob(state, report, inst.key);
    return {
      conclusion: report.conclusion,
      continueOnError: report.continueOnError,
      outputs: report.outputs,
    };
  };
  if (plan.signal.aborted) {
    report.conclusion = "cancelled";
    return finish();
  }

  let desc: JobDescription;
  let labels: string[];
  let concurrency: Concurrency | undefined;
  try {
    // GitHub's contexts for container/services are exactly ctx's (no secrets: env and credentials
    // travel as written, src/containers/spec.ts).
    const container =
      job.container === undefined ? undefined : planContainer(job.container, ctx, "container");
    const services = planServices(job.services, ctx);
    report.continueOnError =
      job.continueOnError !== undefined && truthy(evaluateTemplate(job.continueOnError, ctx));
    labels = runsOnLabels(evaluateTemplate(job.runsOn, ctx));
    const timeout =
      job.timeoutMinutes === undefined
        ? DEFAULT_TIMEOUT_MINUTES
        : Number(evaluateTemplate(job.timeoutMinutes, ctx));
    if (!Number.isFinite(timeout) || timeout <= 0)
      throw new Error(`timeout-minutes must be a positive number`);
    // Evaluated by the runner (with the job env, as GitHub allows); a scalar is sent as text.
    const defaults = { ...scope.workflow.defaults, ...job.defaults };
    const asText = (v: unknown): string | undefined =>
      v === undefined || v === null ? undefined : typeof v === "string" ? v : toExpressionString(v);
    const environment = environmentOf(job, ctx);
    concurrency = evaluateConcurrency(job.concurrency, ctx);
    const shell = asText(defaults.shell);
    const workingDirectory = asText(defaults.workingDirectory);
    desc = {
      runId: opts.identity.runId,
      jobId: job.id,
      displayName: name,
      workflow: { file: scope.workflow.file, name: scope.workflow.name },
      contexts: {
        github: { ...scope.github, job: job.id },
        inputs: scope.inputs,
        vars: opts.vars,
        secrets: scope.secrets,
        needs: plan.needs,
        matrix,
        strategy: plan.strategy,
      },
      env: [scope.workflow.env, job.env ?? {}],
      defaults: {
        ...(shell === undefined ? {} : { shell }),
        ...(workingDirectory === undefined ? {} : { workingDirectory }),
      },
      steps: job.steps,
      outputs: job.outputs ?? {},
      timeoutMinutes: timeout,
      ...(environment === undefined ? {} : { environment }),
      source: {
        repository: opts.repo.root,
        commit: opts.repo.commit,
        ref: opts.ref,
        repositoryName: opts.fullName,
        ...commitTimeOf(opts.repo.timestamp),
      },
      permissions: jobPermissions(scope, job),
      ...(container ? { container } : {}),
      ...(services ? { services } : {}),
    };
    // What only a local run lacks (the artifact and cache services) is not said on a server.
    const warnings = (scope.workflow.warnings ?? [])
      .filter((w) => w.job === job.id && !(w.localOnly && opts.server === true))
      .map((w) => w.text);
    if (warnings.length > 0) desc.warnings = warnings;
  } catch (err) {
    report.error = (err as Error).message;
    return finish();
  }

  try {
    const result = await opts.executor.run({
      instance: inst,
      description: desc,
      labels,
      ...(concurrency ? { concurrency } : {}),
      signal: plan.signal,
      onStarted: () => opts.reporter.jobStarted(inst),
      onEvent: (e: RunnerEvent) => opts.reporter.jobEvent(inst, e),
    });
    report.conclusion = result.conclusion;
    if (result.error !== undefined) report.error = result.error;
    report.outputs = result.outputs;
    report.steps = result.steps.map((s) => ({
      id: s.id,
      name: s.name,
      stage: s.stage,
      outcome: s.outcome,
      conclusion: s.conclusion,
      outputs: s.outputs,
      durationMs: s.durationMs,
    }));
  } catch (err) {
    report.conclusion = plan.signal.aborted ? "cancelled" : "failure";
    report.error = (err as Error).message;
  }
  return finish();
}

/** The committer time (ISO 8601 from git's %cI) as whole seconds since the epoch; {} when unknown. */
function commitTimeOf(timestamp: string): { commitTime?: number } {
  const ms = timestamp === "" ? NaN : Date.parse(timestamp);
  return Number.isFinite(ms) ? { commitTime: Math.floor(ms / 1000) } : {};
}

/** `environment:` with its name evaluated (bounded: names are data a job chose); url kept for the job's end. */
function environmentOf(job: JobTemplate, ctx: Record<string, unknown>): JobDescription["environment"] {
  if (job.environment === undefined) return undefined;
  const name = toExpressionString(evaluateTemplate(job.environment.name, ctx)).trim();
  // An empty name (e.g. an expression that gave "") means no environment, as on GitHub.
  if (name === "") return undefined;
  // eslint-disable-next-line no-control-regex
  if (name.length > 255 || /[\u0000-\u001f\u007f/]/.test(name))
    throw new Error(
      `environment name ${JSON.stringify(name.slice(0, 40))} is not valid: up to 255 characters, no control characters or '/'`,
    );
  return { name, ...(job.environment.url === undefined ? {} : { url: job.environment.url }) };
}

function truthy(v: unknown): boolean {
  return (
    v === true || (typeof v === "string" && v !== "" && v !== "false") || (typeof v === "number" && v !== 0)
  );
}

function displayName(
  job: JobTemplate,
  ctx: Record<string, unknown>,
  matrix: Record<string, unknown> | null,
): string {
  if (job.name !== undefined) {
    const named = toExpressionString(evaluateTemplate(job.name, ctx));
    const usesMatrix = typeof job.name === "string" && /\bmatrix\b/.test(job.name);
    return matrix && !usesMatrix ? `${named} (${matrixValues(matrix)})` : named;
  }
  return matrix ? `${job.id} (${matrixValues(matrix)})` : job.id;
}

function matrixValues(matrix: Record<string, unknown>): string {
  return Object.values(matrix).map(toExpressionString).join(", ");
}

/** runs-on as a list of labels: a string, a list, or `{ group, labels }`. */
function runsOnLabels(runsOn: unknown): string[] {
  const raw: unknown[] = Array.isArray(runsOn)
    ? runsOn
    : runsOn !== null && typeof runsOn === "object"
      ? [(runsOn as { labels?: unknown }).labels ?? []].flat()
      : [runsOn];
  return raw.filter((l): l is string => typeof l === "string" && l !== "");
}
