// Pre and post steps of node actions. At job start every top-level remote `uses:` is loaded (as
// GitHub's "Set up job" does) and `pre` entry points run in step order when `pre-if` holds (default
// always()). Local actions (`./path`) are not loaded then: like actions/runner (ActionManager
// registers pre steps for non-`self` actions only), they are read when their step runs, so a step
// may create or change them, and their `pre` never runs (runUses warns). At job end `post` entry
// points run in reverse order of their main steps, for actions whose main step ran, when
// `post-if` holds (default always()); a local action is read again for its post, as actions/runner
// does. pre-if/post-if see the step's contexts: env with the step's `env:`, github, job, runner,
// steps and `inputs` of the scope the step is in (the workflow's inputs for a job step, the
// composite's inputs inside a composite action). State flows pre → main → post.
import { evaluateStringMap, evaluateCondition } from "../expressions/index.js";
import type { StepTemplate } from "../workflow/model.js";
import { actionInfo, isCheckout, isLocalUses, loadAction, runEntry } from "./actions.js";
import { baseEnv, evalHost, exprContexts, type StepIdentity } from "./contexts.js";
import type { Execution } from "./execute.js";
import { actionInputs } from "./inputs.js";
import type { JobRun, Scope } from "./state.js";
import { contextNames, displayName, stepSignal } from "./steps.js";
import type { Conclusion, LoadedAction, StepRef } from "./types.js";

interface Stage {
  ref: StepRef;
  id: StepIdentity;
  action: LoadedAction;
  entry: string;
  /** Where `inputs` and `steps` come from (the main step's scope); status is the job's. */
  contextScope?: Scope;
  /** Called once the condition holds: the action and entry point to run, or why it cannot run. */
  resolve?: () => Promise<{ action: LoadedAction; entry: string } | Error>;
  condition: string;
  env: Record<string, string>;
  inputs: () => Record<string, string>;
  state: Record<string, string>;
}

async function runStage(run: JobRun, scope: Scope, s: Stage): Promise<void> {
  const started = Date.now();
  run.emit({ type: "step-started", step: s.ref, at: started });
  const ctx = exprContexts(run, s.contextScope ?? scope, s.env, s.id);
  const host = evalHost(run, scope);
  let outcome: Conclusion = "skipped";
  let ok = false;
  try {
    ok = evaluateCondition(s.condition, ctx, host);
  } catch (err) {
    run.annotate(s.ref, "error", `The step's condition could not be evaluated: ${(err as Error).message}`);
    outcome = "failure";
  }
  if (ok && run.limitExceeded === undefined) {
    const sig = stepSignal(run, undefined, undefined);
    const x: Execution = {
      run,
      ref: s.ref,
      outputs: {},
      state: s.state,
      failed: false,
      signal: sig.signal,
      env: s.env,
      ownEnv: {},
      id: s.id,
    };
    try {
      const target = s.resolve ? await s.resolve() : { action: s.action, entry: s.entry };
      if (target instanceof Error) throw target;
      const r = await runEntry(
        { ...x, id: { ...s.id, action: actionInfo(target.action) } },
        s.contextScope ?? scope,
        target.action,
        target.entry,
        s.inputs(),
        s.ref.stage === "pre" ? "pre" : "post",
      );
      outcome = sig.reason() === "cancel" && !r.ok ? "cancelled" : r.ok ? "success" : "failure";
    } catch (err) {
      run.annotate(s.ref, "error", (err as Error).message);
      outcome = "failure";
    } finally {
      sig.dispose();
    }
  }
  if (outcome === "failure") run.failed = true;
  const result = { ...s.ref, outcome, conclusion: outcome, outputs: {}, durationMs: Date.now() - started };
  run.results.push(result);
  run.emit({ type: "step-finished", step: s.ref, result });
}

/** Loads every top-level repository action (not local ones: see above) and runs the `pre` entry points. */
export async function runPreSteps(run: JobRun, scope: Scope, steps: StepTemplate[]): Promise<void> {
  const names = contextNames({ ...scope, names: new Map() }, steps);
  for (const [i, step] of steps.entries()) {
    if (step.uses === undefined || isCheckout(step.uses) || isLocalUses(step.uses)) continue;
    const action = await loadAction(run, step.uses);
    const state: Record<string, string> = {};
    run.preloaded.set(step, { action, state });
    if (action instanceof Error) continue;
    const runs = action.manifest.runs;
    const pre =
      runs.using === "composite" ? undefined : runs.using === "docker" ? runs.preEntrypoint : runs.pre;
    if (runs.using === "composite" || !pre) continue;
    const contextName = names[i] ?? `__${i}`;
    const id: StepIdentity = { contextName, action: actionInfo(action) };
    const env0 = baseEnv(run, scope);
    const ctx0 = exprContexts(run, scope, env0, id);
    const host = evalHost(run, scope);
    const env = { ...env0 };
    const name = `Pre ${displayName(step, ctx0, host)}`;
    const ref = run.newRef(contextName, name, "pre");
    let inputs: () => Record<string, string>;
    try {
      Object.assign(env, evaluateStringMap(step.env, ctx0, host));
      const ctx = exprContexts(run, scope, env, id);
      const w = evaluateStringMap(step.with, ctx, host);
      inputs = () => actionInputs(run, ref, step.uses ?? "", action.manifest, w, ctx, host);
    } catch (err) {
      const message = (err as Error).message;
      inputs = () => {
        throw new Error(message);
      };
    }
    await runStage(run, scope, {
      ref,
      id,
      action,
      entry: pre,
      condition: runs.preIf ?? "always()",
      env,
      inputs,
      state,
    });
  }
}

/** Runs the pending `post` entry points, last main step first. */
export async function runPostSteps(run: JobRun, scope: Scope): Promise<void> {
  for (const post of [...run.posts].reverse()) {
    const id: StepIdentity = { contextName: post.contextName, action: actionInfo(post.action) };
    const uses = post.action.uses;
    await runStage(run, scope, {
      ref: run.newRef(post.contextName, `Post ${post.name}`, "post"),
      id,
      action: post.action,
      entry: post.entry,
      contextScope: post.scope,
      // actions/runner loads a definition again for its post stage (after post-if held): a local
      // action a later step changed is the one used; one that is gone fails the post step.
      ...(isLocalUses(uses) ? { resolve: () => reloadPost(run, uses) } : {}),
      condition: post.postIf,
      env: post.env,
      inputs: () => post.inputs,
      state: post.state,
    });
  }
}

async function reloadPost(
  run: JobRun,
  uses: string,
): Promise<{ action: LoadedAction; entry: string } | Error> {
  const action = await loadAction(run, uses);
  if (action instanceof Error) return action;
  const runs = action.manifest.runs;
  const post =
    runs.using === "composite" ? undefined : runs.using === "docker" ? runs.postEntrypoint : runs.post;
  if (!post) return new Error(`${uses}: the action no longer has a 'post' entry point`);
  return { action, entry: post };
}
