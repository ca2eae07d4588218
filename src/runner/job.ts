// runJob: executes one resolved job on an already-created machine and reports RunnerEvents.
// Order: job-started → workspace checkout + event file + job env → pre steps → main steps →
// post steps → job outputs → job-finished. The job timeout and deps.signal both cancel the job
// (the running step is killed, only always()/cancelled() steps still run); a timeout concludes
// the job as failure, a cancellation as cancelled — as on GitHub. A job with a secret too short to
// mask (SECRET_TOO_SHORT) fails before its machine is touched: no step runs with it.
import { injectionWarnings } from "./injection.js";
import {
  evaluateStringMap,
  evaluateToString,
  toExpressionString,
  evaluateTemplate,
} from "../expressions/index.js";
import { isAirlockError } from "../errors/index.js";
import { evalHost, exprContexts } from "./contexts.js";
import { checkLimits } from "./limits.js";
import { initializeContainers } from "./services.js";
import { runPostSteps, runPreSteps } from "./stages.js";
import { JobRun, newScope, type Scope } from "./state.js";
import { contextNames, displayName, runSteps } from "./steps.js";
import type { JobDescription, JobResult, RunnerDeps } from "./types.js";

export async function runJob(job: JobDescription, deps: RunnerDeps): Promise<JobResult> {
  const started = Date.now();
  const run = new JobRun(job, deps);
  const scope = newScope(job.contexts.inputs);
  run.emit({ type: "job-started", at: started });

  const detachHostLog = deps.hostLog?.attach((text) => run.log(undefined, "system", "line", text));
  const onAbort = (): void => run.cancel("signal");
  deps.signal?.addEventListener("abort", onAbort, { once: true });
  if (deps.signal?.aborted) onAbort();
  let timer: NodeJS.Timeout | undefined;
  if (job.timeoutMinutes > 0) {
    timer = setTimeout(() => {
      if (run.cancelled) return;
      run.annotate(
        undefined,
        "error",
        `The job running on runner airlock has exceeded the maximum execution time of ${job.timeoutMinutes} minutes.`,
      );
      run.cancel("timeout");
    }, job.timeoutMinutes * 60_000);
  }

  let outputs: Record<string, string>;
  let environmentUrl: string | undefined;
  try {
    for (const warning of [...(job.warnings ?? []), ...injectionWarnings(job.steps)])
      run.annotate(undefined, "warning", warning);
    if (run.refusedSecrets.length > 0) {
      for (const why of run.refusedSecrets) run.annotate(undefined, "error", why);
      run.failed = true;
      skipAll(run, scope);
    } else if (await setUp(run, scope)) {
      await runPreSteps(run, scope, job.steps);
      await runSteps(run, scope, job.steps);
      await runPostSteps(run, scope);
    } else {
      skipAll(run, scope);
    }
    // A machine that went over a limit fails its job, naming the limit — also when its steps
    // handled the error themselves (fork failing, ENOSPC) and finished before the machine's
    // watcher saw the kernel's counter move: asked here, at the end, it never depends on timing.
    await checkLimits(run, undefined);
    outputs = jobOutputs(run, scope);
    environmentUrl = environmentUrlOf(run, scope);
  } finally {
    clearTimeout(timer);
    deps.signal?.removeEventListener("abort", onAbort);
    detachHostLog?.();
  }

  const conclusion =
    run.cancelReason === "signal"
      ? "cancelled"
      : run.failed || run.cancelReason === "timeout"
        ? "failure"
        : "success";
  const result: JobResult = {
    conclusion,
    outputs,
    steps: run.results,
    durationMs: Date.now() - started,
    summaries: run.summaries,
    ...(environmentUrl === undefined ? {} : { environmentUrl }),
    ...(run.limitExceeded !== undefined
      ? { error: run.limitExceeded }
      : run.refusedSecrets[0] !== undefined
        ? { error: run.refusedSecrets[0] }
        : {}),
  };
  run.emit({ type: "job-finished", result });
  return result;
}

/** Event file, workspace, job env, containers. Returns false (after reporting why) when the job cannot start. */
async function setUp(run: JobRun, scope: Scope): Promise<boolean> {
  const { job, machine } = run;
  try {
    await machine.writeFile(run.eventPath, JSON.stringify(job.contexts.github.event ?? {}, null, 2));
    await machine.writeFile(`${run.fileCommandDir}/.keep`, "");
    await run.deps.source.checkout(machine, {
      repository: job.source.repository,
      commit: job.source.commit,
      ref: job.source.ref,
      path: machine.paths.workspace,
      clean: true,
      ...(job.sourceAuth ? { auth: job.sourceAuth } : {}),
    });
    for (const level of job.env) {
      const ctx = exprContexts(run, scope, { ...run.env });
      const host = evalHost(run, scope);
      Object.assign(run.env, evaluateStringMap(level, ctx, host));
    }
    run.defaults = jobDefaults(run, scope);
  } catch (err) {
    run.annotate(undefined, "error", `Set up job failed: ${isAirlockError(err) ? err.message : String(err)}`);
    run.failed = true;
    return false;
  }
  if (!(await initializeContainers(run, scope))) {
    run.failed = true;
    return false;
  }
  return true;
}

/**
 * `defaults.run` with the contexts GitHub's schema gives it (job-defaults-run: the job env among
 * them), evaluated once the job env is, as actions/runner's JobExtension does when it sets the job
 * up; a value that comes out empty is left unset, as there.
 */
function jobDefaults(run: JobRun, scope: Scope): JobRun["defaults"] {
  const ctx = exprContexts(run, scope, { ...run.env });
  const host = { ...evalHost(run, scope), contexts: DEFAULTS_RUN_CONTEXTS };
  const out: JobRun["defaults"] = {};
  const { shell, workingDirectory } = run.job.defaults;
  const s = shell === undefined ? "" : evaluateToString(shell, ctx, host);
  const wd = workingDirectory === undefined ? "" : evaluateToString(workingDirectory, ctx, host);
  if (s !== "") out.shell = s;
  if (wd !== "") out.workingDirectory = wd;
  return out;
}

const DEFAULTS_RUN_CONTEXTS = ["github", "inputs", "vars", "strategy", "matrix", "needs", "env"] as const;

function skipAll(run: JobRun, scope: Scope): void {
  const names = contextNames(scope, run.job.steps);
  const ctx = exprContexts(run, scope, run.env);
  for (const [i, step] of run.job.steps.entries()) {
    const ref = run.newRef(names[i] ?? `__${i}`, displayName(step, ctx, {}), "main");
    const result = { ...ref, outcome: "skipped", conclusion: "skipped", outputs: {}, durationMs: 0 } as const;
    run.emit({ type: "step-started", step: ref, at: Date.now() });
    run.results.push(result);
    run.emit({ type: "step-finished", step: ref, result });
  }
}

/** `environment.url` with the final contexts (steps outputs too), as GitHub evaluates it; bounded. */
function environmentUrlOf(run: JobRun, scope: Scope): string | undefined {
  const tpl = run.job.environment?.url;
  if (tpl === undefined) return undefined;
  let value: string;
  try {
    value = toExpressionString(
      evaluateTemplate(tpl, exprContexts(run, scope, { ...run.env }), evalHost(run, scope)),
    );
  } catch (err) {
    run.annotate(undefined, "error", `The environment URL could not be evaluated: ${(err as Error).message}`);
    return undefined;
  }
  if (value === "") return undefined;
  if (value.length > 2048 || run.masker.contains(value)) {
    run.annotate(
      undefined,
      "warning",
      "Skip the environment URL since it is too long or may contain a secret.",
    );
    return undefined;
  }
  return value;
}

/** Job outputs with the final contexts; values that would reveal a secret are dropped (GitHub). */
function jobOutputs(run: JobRun, scope: Scope): Record<string, string> {
  const out: Record<string, string> = {};
  const ctx = exprContexts(run, scope, { ...run.env });
  const host = evalHost(run, scope);
  for (const [name, tpl] of Object.entries(run.job.outputs)) {
    let value: string;
    try {
      value = toExpressionString(evaluateTemplate(tpl, ctx, host));
    } catch (err) {
      run.annotate(
        undefined,
        "error",
        `Job output '${name}' could not be evaluated: ${(err as Error).message}`,
      );
      continue;
    }
    if (run.masker.contains(value)) {
      run.annotate(undefined, "warning", `Skip output '${name}' since it may contain secret.`);
      continue;
    }
    out[name] = value;
  }
  return out;
}
