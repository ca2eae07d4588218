// Running a list of steps in a scope: `if`, env, continue-on-error, timeout-minutes, outcome and
// conclusion, the `steps` context. Job-level steps get their own StepRef and events; steps of a
// composite action log under the composite step's StepRef.
import {
  evaluateStringMap,
  evaluateCondition,
  evaluateTemplate,
  evaluateToString,
  isTruthy,
  type Contexts,
  type EvalHost,
} from "../expressions/index.js";
import type { StepTemplate } from "../workflow/model.js";
import { runUses } from "./actions.js";
import { baseEnv, evalHost, exprContexts, type StepIdentity } from "./contexts.js";
import { createFiles, type ExecOutcome, type Execution } from "./execute.js";
import { firstLine, runScript } from "./script.js";
import { CANCEL_GRACE_MS, generatedName, type JobRun, type Scope } from "./state.js";
import type { Conclusion, StepRef } from "./types.js";

/** Context names for a list of steps: explicit ids, else GitHub-style generated ones. */
export function contextNames(scope: Scope, steps: StepTemplate[]): string[] {
  const taken = new Set(steps.flatMap((s) => (s.id ? [s.id] : [])));
  return steps.map((s) => {
    if (s.id) return s.id;
    const name = generatedName(scope, s.uses, taken);
    taken.add(name);
    return name;
  });
}

export function displayName(step: StepTemplate, ctx: Contexts, host: EvalHost): string {
  if (step.name !== undefined) {
    try {
      const n = evaluateToString(step.name, ctx, host);
      if (n.trim() !== "") return n;
    } catch {
      // fall through to the raw text
    }
    if (typeof step.name === "string") return step.name;
  }
  if (step.run !== undefined)
    return `Run ${firstLine(typeof step.run === "string" ? step.run : JSON.stringify(step.run))}`;
  return `Run ${step.uses ?? "step"}`;
}

/** A signal for one step: job cancellation (or the grace period after it), parent, timeout. */
export function stepSignal(
  run: JobRun,
  parent: AbortSignal | undefined,
  timeoutMs: number | undefined,
): { signal: AbortSignal; reason: () => "timeout" | "cancel" | undefined; dispose: () => void } {
  const ctrl = new AbortController();
  let reason: "timeout" | "cancel" | undefined;
  const timers: NodeJS.Timeout[] = [];
  const abort = (r: "timeout" | "cancel"): void => {
    if (ctrl.signal.aborted) return;
    reason = r;
    ctrl.abort();
  };
  const onCancel = (): void => abort("cancel");
  const upstream = parent ?? (run.cancelled ? undefined : run.abort.signal);
  upstream?.addEventListener("abort", onCancel, { once: true });
  if (upstream?.aborted) onCancel();
  if (parent === undefined && run.cancelled) timers.push(setTimeout(onCancel, CANCEL_GRACE_MS));
  if (timeoutMs !== undefined) timers.push(setTimeout(() => abort("timeout"), timeoutMs));
  return {
    signal: ctrl.signal,
    reason: () => reason,
    dispose: () => {
      for (const t of timers) clearTimeout(t);
      upstream?.removeEventListener("abort", onCancel);
    },
  };
}

export interface StepRun {
  outcome: Conclusion;
  conclusion: Conclusion;
  outputs: Record<string, string>;
}

/**
 * Runs `steps` in `scope`. `parent` is the composite step they belong to (undefined for the job's
 * own steps), `parentSignal` that step's signal.
 */
export async function runSteps(
  run: JobRun,
  scope: Scope,
  steps: StepTemplate[],
  parent?: StepRef,
  parentSignal?: AbortSignal,
): Promise<void> {
  const names = contextNames(scope, steps);
  for (const [i, step] of steps.entries()) {
    await runOneStep(run, scope, step, names[i] ?? `__${i}`, parent, parentSignal);
  }
}

async function runOneStep(
  run: JobRun,
  scope: Scope,
  step: StepTemplate,
  contextName: string,
  parent: StepRef | undefined,
  parentSignal: AbortSignal | undefined,
): Promise<StepRun> {
  const started = Date.now();
  const id: StepIdentity = { contextName, ...(scope.action ? { action: scope.action } : {}) };
  const env0 = baseEnv(run, scope);
  const ctx0 = exprContexts(run, scope, env0, id);
  const host = evalHost(run, scope);
  const name = displayName(step, ctx0, host);
  const ref = parent ?? run.newRef(contextName, name, "main");
  if (!parent) run.emit({ type: "step-started", step: ref, at: started });

  let result: StepRun;
  let shouldRun = false;
  let conditionError: string | undefined;
  try {
    shouldRun = evaluateCondition(step.if, ctx0, host);
  } catch (err) {
    conditionError = (err as Error).message;
  }
  if (run.limitExceeded !== undefined) {
    // The machine was killed for going over a limit: nothing can run any more.
    result = { outcome: "skipped", conclusion: "skipped", outputs: {} };
  } else if (conditionError !== undefined) {
    run.annotate(ref, "error", `The step's 'if' could not be evaluated: ${conditionError}`);
    result = { outcome: "failure", conclusion: "failure", outputs: {} };
  } else if (!shouldRun) {
    result = { outcome: "skipped", conclusion: "skipped", outputs: {} };
  } else {
    // A composite's inner `run:` steps announce themselves through their script group (runScript).
    if (parent && step.run === undefined) run.log(parent, "system", "line", name);
    result = await execStep(run, scope, step, ref, id, env0, ctx0, parentSignal);
  }

  if (step.id) scope.steps[step.id] = { ...result };
  if (result.conclusion === "failure") {
    scope.failed = true;
    if (scope.depth === 0) run.failed = true;
  }
  if (!parent) {
    // Reported outputs are masked (they leave the runner); the steps context keeps the raw values.
    const outputs = Object.fromEntries(
      Object.entries(result.outputs).map(([k, v]) => [k, run.masker.mask(v)]),
    );
    const full = { ...ref, ...result, outputs, durationMs: Date.now() - started };
    run.results.push(full);
    run.emit({ type: "step-finished", step: ref, result: full });
  }
  return result;
}

async function execStep(
  run: JobRun,
  scope: Scope,
  step: StepTemplate,
  ref: StepRef,
  id: StepIdentity,
  env0: Record<string, string>,
  ctx0: Contexts,
  parentSignal: AbortSignal | undefined,
): Promise<StepRun> {
  const host = evalHost(run, scope);
  let continueOnError = false;
  let timeoutMs: number | undefined;
  const ownEnv: Record<string, string> = {};
  try {
    Object.assign(ownEnv, evaluateStringMap(step.env, ctx0, host));
    continueOnError =
      step.continueOnError !== undefined && isTruthy(evaluateTemplate(step.continueOnError, ctx0, host));
    if (step.timeoutMinutes !== undefined) {
      const t = Number(evaluateTemplate(step.timeoutMinutes, ctx0, host));
      if (Number.isFinite(t) && t > 0) timeoutMs = t * 60_000;
    }
  } catch (err) {
    run.annotate(ref, "error", (err as Error).message);
    return { outcome: "failure", conclusion: continueOnError ? "success" : "failure", outputs: {} };
  }
  const env = { ...env0, ...ownEnv };
  const files = await createFiles(run);
  const ctx = exprContexts(run, scope, env, { ...id, files });
  const sig = stepSignal(run, parentSignal, timeoutMs);
  const x: Execution = {
    run,
    ref,
    outputs: {},
    state: {},
    failed: false,
    signal: sig.signal,
    env,
    ownEnv,
    id: { ...id, files },
  };
  let outcome: ExecOutcome;
  try {
    if (step.run !== undefined) outcome = await runScript(x, scope, step, ctx, host);
    else if (step.uses !== undefined) {
      outcome = await runUses(x, scope, step, ctx, host, (inner, steps, parent, signal) =>
        runSteps(run, inner, steps, parent, signal),
      );
    } else {
      run.annotate(ref, "error", "A step needs either 'run' or 'uses'.");
      outcome = { ok: false, aborted: false };
    }
  } catch (err) {
    run.annotate(ref, "error", (err as Error).message);
    outcome = { ok: false, aborted: false };
  } finally {
    sig.dispose();
  }
  const reason = sig.reason();
  let result: Conclusion;
  if (reason === "timeout") {
    run.annotate(
      ref,
      "error",
      `The action '${ref.name}' has timed out after ${timeoutMs! / 60_000} minutes.`,
    );
    result = "failure";
  } else if (reason === "cancel" && (outcome.aborted || !outcome.ok)) {
    result = "cancelled";
  } else result = outcome.ok && !x.failed ? "success" : "failure";
  const conclusion = result === "failure" && continueOnError ? "success" : result;
  return { outcome: result, conclusion, outputs: x.outputs };
}
