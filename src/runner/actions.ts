// `uses:` steps: the built-in actions/checkout, Docker actions (docker.ts), node actions (main;
// pre/post are scheduled by the job) and composite actions (their steps run recursively in a
// private scope).
import path from "node:path/posix";
import { evaluateStringMap, evaluateToString, type Contexts, type EvalHost } from "../expressions/index.js";
import { AirlockError, ErrorCode, isAirlockError } from "../errors/index.js";
import type { StepTemplate } from "../workflow/model.js";
import { evalHost, exprContexts } from "./contexts.js";
import { execute, type ExecOutcome, type Execution } from "./execute.js";
import { runDocker } from "./docker.js";
import { actionInputs, inputEnv, stateEnv } from "./inputs.js";
import { MAX_ACTION_DEPTH, newScope, type ActionInfo, type JobRun, type Scope } from "./state.js";
import type { LoadedAction, StepRef } from "./types.js";

export { DOCKER_UNSUPPORTED } from "./docker.js";

/** Runs a list of steps in a scope (provided by steps.ts; passed in to keep imports acyclic). */
export type RunSteps = (
  scope: Scope,
  steps: StepTemplate[],
  parent: StepRef,
  signal: AbortSignal,
) => Promise<void>;

/** `./path` (or `.\\path`): an action in the workspace, read when its step runs. */
export function isLocalUses(uses: string): boolean {
  return uses.startsWith("./") || uses.startsWith(".\\");
}

export function isCheckout(uses: string): boolean {
  return /^actions\/checkout@/i.test(uses);
}

/** Loads an action, turning failures into a value (a load failure fails the step, not the job). */
export async function loadAction(run: JobRun, uses: string): Promise<LoadedAction | Error> {
  if (uses.startsWith("docker://")) {
    const image = uses.slice("docker://".length);
    if (image === "") return new AirlockError(ErrorCode.ACTION_INVALID, `${uses}: no image`);
    // As actions/runner: a docker:// step is an action without metadata that runs that image.
    const manifest = { name: uses, inputs: {}, outputs: {}, runs: { using: "docker" as const, image: uses } };
    return { uses, dir: run.machine.paths.workspace, manifest };
  }
  try {
    return await run.deps.actions.load(uses, run.machine, run.job.resolvedActions);
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

export function actionInfo(a: LoadedAction): ActionInfo {
  const at = a.uses.lastIndexOf("@");
  const local = isLocalUses(a.uses);
  return {
    path: a.dir,
    repository: local || at < 0 ? "" : a.uses.slice(0, at).split("/").slice(0, 2).join("/"),
    ref: local || at < 0 ? "" : a.uses.slice(at + 1),
  };
}

function fail(x: Execution, message: string): ExecOutcome {
  x.run.annotate(x.ref, "error", message);
  return { ok: false, aborted: false };
}

export async function runUses(
  x: Execution,
  scope: Scope,
  step: StepTemplate,
  ctx: Contexts,
  host: EvalHost,
  runSteps: RunSteps,
): Promise<ExecOutcome> {
  const uses = step.uses ?? "";
  const withValues = evaluateStringMap(step.with, ctx, host);
  if (isCheckout(uses)) {
    // GitHub refuses an abbreviated commit as an action's ref (actions/checkout has no hex tags,
    // so a hex ref here can only be one); the full SHA or a tag is needed (see actions/fetch.ts).
    const ref = uses.slice(uses.indexOf("@") + 1);
    if (/^[0-9a-f]{7,39}$/i.test(ref))
      return fail(
        x,
        `unable to resolve action ${uses}: the ref "${ref}" is a shortened commit SHA, which is not supported; use the full commit SHA instead`,
      );
    return checkout(x, withValues);
  }
  const pre = x.run.preloaded.get(step);
  const loaded = pre ? pre.action : await loadAction(x.run, uses);
  if (loaded instanceof Error) return fail(x, loaded.message);
  const runs = loaded.manifest.runs;
  const info = actionInfo(loaded);
  const id = { ...x.id, action: info };
  const actionCtx = exprContexts(x.run, scope, x.env, id);
  // A docker:// step has no metadata: its `with:` values are its inputs, as they are.
  const inputs = uses.startsWith("docker://")
    ? withValues
    : actionInputs(x.run, x.ref, uses, loaded.manifest, withValues, actionCtx, host);
  if (runs.using === "docker") {
    const outcome = await runDocker({ ...x, id }, scope, loaded, inputs, "main");
    if (runs.postEntrypoint)
      x.run.posts.push({
        action: loaded,
        entry: runs.postEntrypoint,
        postIf: runs.postIf ?? "always()",
        name: x.ref.name,
        contextName: x.id.contextName,
        env: x.env,
        inputs,
        state: x.state,
        scope,
      });
    return outcome;
  }
  if (runs.using === "composite") {
    return composite(x, scope, loaded, info, inputs, runSteps);
  }
  // node12/16/20/24: all run on the machine's node (GitHub runs node12/16 on node20 as well).
  if (runs.pre && isLocalUses(uses)) {
    // actions/runner (ActionRunner.RunAsync): a local action's `pre` never runs, since the action
    // cannot be read before the job's steps have put it in the workspace.
    x.run.annotate(x.ref, "warning", `\`pre\` execution is not supported for local action from '${uses}'`);
  }
  const state = pre?.state ?? {};
  Object.assign(x.state, state);
  const outcome = await runNode({ ...x, id }, loaded, runs.main, inputs);
  if (runs.post) {
    x.run.posts.push({
      action: loaded,
      entry: runs.post,
      postIf: runs.postIf ?? "always()",
      name: x.ref.name,
      contextName: x.id.contextName,
      env: x.env,
      inputs,
      state: x.state,
      scope,
    });
  }
  return outcome;
}

/** Runs a `pre` or `post` entry point of a node action, or pre-/post-entrypoint of a Docker one. */
export function runEntry(
  x: Execution,
  scope: Scope,
  action: LoadedAction,
  entry: string,
  inputs: Record<string, string>,
  stage: "pre" | "post",
): Promise<ExecOutcome> {
  if (action.manifest.runs.using === "docker") return runDocker(x, scope, action, inputs, stage);
  return runNode(x, action, entry, inputs);
}

/** Runs one node entry point (`main`, `pre` or `post`) of an action. */
export async function runNode(
  x: Execution,
  action: LoadedAction,
  entry: string,
  inputs: Record<string, string>,
): Promise<ExecOutcome> {
  // Like actions/runner (externals/node20): the machine's own Node runtime, never one a step put
  // on PATH or whatever the image happens to contain.
  const node = x.run.machine.nodePath;
  const script = path.isAbsolute(entry) ? entry : path.join(action.dir, entry);
  return execute(x, [node, script], x.run.machine.paths.workspace, {
    ...inputEnv(inputs),
    ...stateEnv(x.state),
    ...x.run.deps.runtime?.actionEnv,
  });
}

async function composite(
  x: Execution,
  outer: Scope,
  loaded: LoadedAction,
  info: ActionInfo,
  inputs: Record<string, string>,
  runSteps: RunSteps,
): Promise<ExecOutcome> {
  const runs = loaded.manifest.runs;
  if (runs.using !== "composite") return { ok: false, aborted: false };
  if (outer.depth + 1 > MAX_ACTION_DEPTH) {
    return fail(x, `${loaded.uses}: composite actions are nested more than ${MAX_ACTION_DEPTH} levels deep`);
  }
  const scope = newScope(inputs, outer, info);
  scope.envOverlays.push(x.ownEnv);
  await runSteps(scope, runs.steps, x.ref, x.signal);
  const ctx = exprContexts(x.run, scope, x.env, { contextName: x.id.contextName, action: info });
  for (const [name, def] of Object.entries(loaded.manifest.outputs)) {
    if (def.value === undefined) continue;
    try {
      x.outputs[name] = evaluateToString(def.value, ctx, evalHost(x.run, scope));
    } catch (err) {
      x.run.annotate(x.ref, "error", `output '${name}' of ${loaded.uses}: ${(err as Error).message}`);
      scope.failed = true;
    }
  }
  return { ok: !scope.failed, aborted: x.signal.aborted };
}

async function checkout(x: Execution, w: Record<string, string>): Promise<ExecOutcome> {
  const { run } = x;
  const src = run.job.source;
  const ws = run.machine.paths.workspace;
  const rel = w.path ?? "";
  const target = path.isAbsolute(rel) ? path.normalize(rel) : path.join(ws, rel);
  if (target !== ws && !target.startsWith(`${ws}/`)) {
    return fail(x, `Repository path '${target}' is not under '${ws}'`);
  }
  const repo = w.repository ?? "";
  if (repo !== "" && repo.toLowerCase() !== src.repositoryName.toLowerCase()) {
    return fail(
      x,
      `actions/checkout: only the workflow's own repository can be checked out here, not '${repo}'`,
    );
  }
  const wanted = w.ref ?? "";
  let commit = src.commit;
  let ref = src.ref;
  if (wanted !== "" && wanted !== src.commit && wanted !== src.ref) {
    const short = src.ref.replace(/^refs\/(heads|tags)\//, "");
    if (/^[0-9a-f]{40}$/i.test(wanted)) {
      commit = wanted;
      ref = wanted;
    } else if (wanted !== short) {
      return fail(
        x,
        `actions/checkout: ref '${wanted}' cannot be resolved here; use the job's ref or a full commit SHA`,
      );
    }
  }
  const clean = (w.clean ?? "true").toLowerCase() !== "false";
  run.log(x.ref, "system", "line", `Checking out ${src.repositoryName} at ${commit} into ${target}`);
  try {
    await run.deps.source.checkout(run.machine, {
      repository: src.repository,
      commit,
      ref,
      path: target,
      clean,
      ...(run.job.sourceAuth ? { auth: run.job.sourceAuth } : {}),
    });
  } catch (err) {
    return fail(x, isAirlockError(err) ? err.message : `checkout failed: ${String(err)}`);
  }
  x.outputs.ref = ref;
  x.outputs.commit = commit;
  return { ok: true, aborted: false };
}
