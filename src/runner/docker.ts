// Docker container actions (`runs.using: docker`) and `uses: docker://image` steps, with GitHub's
// semantics (actions/runner ContainerActionHandler): the image is `docker://…` or a Dockerfile in
// the action's folder, built once per job (context: the Dockerfile's folder); the entry point is
// `runs.entrypoint` (pre-/post-entrypoint for those stages), else the `entrypoint` input; the
// arguments are `runs.args` evaluated with `inputs`, else the `args` input split into words
// (quotes only, no shell); the variables are the step's (INPUT_* included) plus `runs.env` where
// the step has none of that name, with HOME=/github/home and every machine path rewritten to the
// container's (/github/workspace, /github/file_commands, …). The container runs through
// Machine.containers; a machine without them fails the step with one line (MACHINE_UNSUPPORTED).
import { lstat, mkdtemp, realpath, rm } from "node:fs/promises";
import os from "node:os";
import hostPath from "node:path";
import path from "node:path/posix";
import { copyContext, dockerActionMounts, splitWords, toContainerPath } from "../containers/index.js";
import { evaluateToString, evaluateStringMap } from "../expressions/index.js";
import { AirlockError, ErrorCode, isAirlockError } from "../errors/index.js";
import type { ExecHandle, ExecRequest, MachineContainers } from "../provisioners/types.js";
import { evalHost, exprContexts } from "./contexts.js";
import { execute, type ExecOutcome, type Execution } from "./execute.js";
import { inputEnv } from "./inputs.js";
import type { JobRun, Scope } from "./state.js";
import type { LoadedAction } from "./types.js";

export const DOCKER_UNSUPPORTED =
  "docker actions are not supported by this provisioner: they need the container provisioner (MACHINE_UNSUPPORTED)";

/** Variables of the machine that mean nothing in the action's image. */
const NOT_PASSED = new Set(["PATH", "SHELL"]);

/** Images built for this job, by Dockerfile (inner path). */
const builtImages = new WeakMap<JobRun, Map<string, Promise<string>>>();

/** actions/runner DockerUtil.IsDockerfile. */
export function isDockerfile(image: string): boolean {
  const name = image.split("/").pop() ?? "";
  return /^[Dd]ockerfile\./.test(name) || /[Dd]ockerfile$/.test(name);
}

function input(inputs: Record<string, string>, name: string): string | undefined {
  const hit = Object.keys(inputs).find((k) => k.toLowerCase() === name);
  return hit === undefined ? undefined : inputs[hit];
}

export async function runDocker(
  x: Execution,
  scope: Scope,
  action: LoadedAction,
  inputs: Record<string, string>,
  stage: "pre" | "main" | "post",
): Promise<ExecOutcome> {
  const { run } = x;
  const runs = action.manifest.runs;
  if (runs.using !== "docker") return { ok: false, aborted: false };
  const containers = run.machine.containers;
  if (!containers) {
    run.annotate(x.ref, "error", new AirlockError(ErrorCode.MACHINE_UNSUPPORTED, DOCKER_UNSUPPORTED).message);
    return { ok: false, aborted: false };
  }
  let image: string;
  let args: string[];
  let runsEnv: Record<string, string>;
  try {
    // As ContainerActionHandler: docker://image, a Dockerfile to build, else an image name as is.
    image = runs.image.toLowerCase().startsWith("docker://")
      ? runs.image.slice("docker://".length)
      : isDockerfile(runs.image)
        ? await buildImage(run, containers, action, x)
        : runs.image;
    if (image === "") throw new Error(`${action.uses}: the action names no image`);
    const ctx = { ...exprContexts(run, scope, x.env, x.id), inputs };
    const host = evalHost(run, scope);
    args =
      runs.args !== undefined
        ? runs.args.map((a) => evaluateToString(a, ctx, host))
        : splitWords(input(inputs, "args") ?? "", "with.args");
    runsEnv = runs.env ? evaluateStringMap(runs.env, ctx, host) : {};
  } catch (err) {
    run.annotate(x.ref, "error", isAirlockError(err) ? err.message : (err as Error).message);
    return { ok: false, aborted: false };
  }
  const entrypoint =
    stage === "pre"
      ? runs.preEntrypoint
      : stage === "post"
        ? runs.postEntrypoint
        : runs.entrypoint || input(inputs, "entrypoint") || undefined;
  const mounts = dockerActionMounts(run.machine.paths);
  const home = path.join(run.machine.paths.temp, "_github_home");
  await run.machine.writeFile(path.join(home, ".keep"), "");
  const launch = (req: ExecRequest): ExecHandle => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.env)) if (!NOT_PASSED.has(k)) env[k] = v;
    env.HOME = home;
    for (const [k, v] of Object.entries(runsEnv)) if (!Object.hasOwn(env, k)) env[k] = v;
    for (const k of Object.keys(env)) env[k] = toContainerPath(env[k]!, mounts);
    return containers.run({
      image,
      ...(entrypoint ? { entrypoint } : {}),
      args,
      env,
      workdir: "/github/workspace",
    });
  };
  return execute(
    x,
    [image, ...args],
    run.machine.paths.workspace,
    { ...inputEnv(inputs), ...run.deps.runtime?.actionEnv },
    launch,
  );
}

/** Builds the action's Dockerfile (once per job); the context is the Dockerfile's folder. */
async function buildImage(
  run: JobRun,
  containers: MachineContainers,
  action: LoadedAction,
  x: Execution,
): Promise<string> {
  const runs = action.manifest.runs;
  if (runs.using !== "docker")
    throw new AirlockError(ErrorCode.ACTION_INVALID, `${action.uses}: not a Docker action`);
  const rel = path.normalize(runs.image);
  if (rel.startsWith("/") || rel.split("/").includes(".."))
    throw new AirlockError(
      ErrorCode.ACTION_INVALID,
      `${action.uses}: the Dockerfile must be inside the action's folder`,
    );
  const inner = path.join(action.dir, rel);
  let cache = builtImages.get(run);
  if (!cache) builtImages.set(run, (cache = new Map()));
  let built = cache.get(inner);
  if (!built) {
    built = build(run, containers, action, inner, x);
    cache.set(inner, built);
    built.catch(() => cache.delete(inner));
  }
  return built;
}

async function build(
  run: JobRun,
  containers: MachineContainers,
  action: LoadedAction,
  inner: string,
  x: Execution,
): Promise<string> {
  const m = run.machine;
  const dir = path.dirname(inner);
  // The job writes the action's folder: what the host builds from must not lead out of the machine.
  const hostDir = m.hostPath?.(dir);
  const roots = [m.paths.workspace, m.paths.actions].map((p) => m.hostPath?.(p));
  if (hostDir === undefined || roots.some((r) => r === undefined))
    throw new AirlockError(ErrorCode.MACHINE_UNSUPPORTED, `${action.uses}: this machine cannot build images`);
  const real = await realpath(hostDir).catch(() => {
    throw new AirlockError(ErrorCode.ACTION_NOT_FOUND, `${action.uses}: no folder ${dir}`);
  });
  const realRoots = await Promise.all(roots.map((r) => realpath(r!).catch(() => r!)));
  if (!realRoots.some((r) => real === r || real.startsWith(`${r}/`)))
    throw new AirlockError(
      ErrorCode.MACHINE_PATH_ESCAPE,
      `${action.uses}: the Dockerfile's folder leads out of the machine`,
    );
  // The builder reads a private copy, made race-free (context-copy.ts): the job may change its
  // workspace at any moment, also while the image is built.
  const tmp = await mkdtemp(hostPath.join(os.tmpdir(), "airlock-build-"));
  try {
    const context = hostPath.join(tmp, "context");
    await copyContext(real, context, realRoots);
    const name = await dockerfileIn(context, path.basename(inner), `${action.uses}: ${inner}`);
    return await buildIn(run, containers, x, inner, context, name);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * The Dockerfile's path inside the private copy `context`: a symlink (copied as one) must lead to a
 * regular file inside that copy (the builder would follow it anywhere on the host). The copy is
 * Airlock's own, so resolving it here cannot race with the job.
 */
async function dockerfileIn(context: string, name: string, shown: string): Promise<string> {
  const file = hostPath.join(context, name);
  const st = await lstat(file).catch(() => undefined);
  if (st === undefined) throw new AirlockError(ErrorCode.ACTION_NOT_FOUND, `${shown} does not exist`);
  if (!st.isSymbolicLink()) {
    if (!st.isFile()) throw new AirlockError(ErrorCode.ACTION_NOT_FOUND, `${shown} is not a regular file`);
    return name;
  }
  const real = await realpath(file).catch(() => undefined);
  const root = await realpath(context);
  const rel = real === undefined ? undefined : hostPath.relative(root, real);
  if (rel === undefined || rel.startsWith("..") || hostPath.isAbsolute(rel))
    throw new AirlockError(
      ErrorCode.MACHINE_PATH_ESCAPE,
      `${shown} is a symlink that leads out of its build context`,
    );
  if (!(await lstat(real!)).isFile())
    throw new AirlockError(ErrorCode.ACTION_NOT_FOUND, `${shown} is not a regular file`);
  return rel;
}

async function buildIn(
  run: JobRun,
  containers: MachineContainers,
  x: Execution,
  inner: string,
  context: string,
  name: string,
): Promise<string> {
  const tag = `localhost/airlock-action-${run
    .token()
    .toLowerCase()
    .replace(/[^a-z0-9_.-]/g, "")}`;
  run.log(x.ref, "system", "group-start", "Building docker image");
  run.log(x.ref, "system", "line", `Dockerfile for action: '${inner}'.`);
  try {
    return await containers.build({ contextDir: context, dockerfile: name, tag });
  } catch (err) {
    throw new Error(`Docker build failed: ${(err as Error).message}`, { cause: err });
  } finally {
    run.log(x.ref, "system", "group-end", "");
  }
}
