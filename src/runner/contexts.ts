// Expression contexts and process environments for a step, built the way actions/runner does:
// `env` = workflow env < job env < GITHUB_ENV < composite step env(s) < step env; the process gets
// only what is built here (nothing leaks from the host), and GITHUB_*/RUNNER_* cannot be
// overridden by `env:` (GitHub documents the same), while CI, HOME, PATH and SOURCE_DATE_EPOCH can.
import path from "node:path/posix";
import { hashFilesOnDisk, type Contexts, type EvalHost } from "../expressions/index.js";
import type { ActionInfo, JobRun, Scope } from "./state.js";

export const SANE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Per-execution details that show up in github.* and GITHUB_* (the step's name, action, files). */
export interface StepIdentity {
  contextName: string;
  action?: ActionInfo;
  files?: EnvFilePaths;
}

export interface EnvFilePaths {
  env: string;
  output: string;
  path: string;
  state: string;
  summary: string;
}

/** env visible to a step before its own `env:`: job-level env, GITHUB_ENV, enclosing composites. */
export function baseEnv(run: JobRun, scope: Scope): Record<string, string> {
  return Object.assign({}, run.env, ...scope.envOverlays) as Record<string, string>;
}

function str(v: unknown, fallback: string): string {
  return typeof v === "string" ? v : typeof v === "number" ? String(v) : fallback;
}

export function githubContext(run: JobRun, id: StepIdentity | undefined): Record<string, unknown> {
  const g = run.job.contexts.github;
  const p = run.machine.paths;
  return {
    ...g,
    job: run.job.jobId,
    workspace: p.workspace,
    event_path: run.eventPath,
    sha: str(g.sha, run.job.source.commit),
    ref: str(g.ref, run.job.source.ref),
    repository: str(g.repository, run.job.source.repositoryName),
    action: id?.contextName ?? "",
    action_path: id?.action?.path ?? "",
    action_repository: id?.action?.repository ?? "",
    action_ref: id?.action?.ref ?? "",
    ...(id?.files
      ? {
          env: id.files.env,
          output: id.files.output,
          path: id.files.path,
          state: id.files.state,
          step_summary: id.files.summary,
        }
      : {}),
  };
}

export function runnerContext(run: JobRun): Record<string, unknown> {
  const p = run.machine.paths;
  return {
    os: "Linux",
    arch: "X64",
    name: "airlock",
    environment: "self-hosted",
    temp: p.temp,
    tool_cache: p.toolCache,
    ...(run.debug ? { debug: "1" } : {}),
  };
}

export function jobStatus(run: JobRun): string {
  return run.cancelled ? "cancelled" : run.failed ? "failure" : "success";
}

export function exprContexts(
  run: JobRun,
  scope: Scope,
  env: Record<string, string>,
  id?: StepIdentity,
): Contexts {
  const c = run.job.contexts;
  return {
    github: githubContext(run, id),
    inputs: scope.inputs,
    vars: c.vars,
    secrets: c.secrets,
    needs: c.needs,
    matrix: c.matrix,
    strategy: c.strategy,
    env,
    // Like actions/runner: `container` and `services` exist only when the job has a container or
    // service containers (set by "Initialize containers", services.ts).
    job: { status: jobStatus(run), ...run.containersContext },
    steps: scope.steps,
    runner: runnerContext(run),
  };
}

export function evalHost(run: JobRun, scope?: Scope): EvalHost {
  const root = run.machine.hostPath?.(run.machine.paths.workspace);
  // Like actions/runner: a composite action's own steps see the action's status (action_status),
  // not the job's, so an action called with `if: always()` after a failure runs its steps.
  const failed =
    scope !== undefined && scope.depth > 0 ? scope.failed : run.failed || (scope?.failed ?? false);
  return {
    status: { failed, cancelled: run.cancelled },
    ...(root !== undefined ? { hashFiles: (patterns: string[]) => hashFilesOnDisk(root, patterns) } : {}),
  };
}

/**
 * The complete environment of a step's process. `inJobContainer` false: a process of its own
 * container (a Docker action), which does not inherit the job container's `env:` (as on GitHub).
 */
export function processEnv(
  run: JobRun,
  env: Record<string, string>,
  id: StepIdentity,
  extra: Record<string, string> = {},
  inJobContainer = true,
): Record<string, string> {
  const g = githubContext(run, id);
  const p = run.machine.paths;
  const s = (k: string): string => str(g[k], "");
  const basePath = env.PATH ?? SANE_PATH;
  const commitTime = run.job.source.commitTime;
  const prepend = [...run.prependPath].reverse();
  const out: Record<string, string> = {
    HOME: p.home,
    // The runner user's login shell in every image (src/images), as on GitHub's runners.
    SHELL: "/bin/bash",
    CI: "true",
    // The machine's own variables (its egress proxy), under the job's: a job may send a tool
    // around the proxy, but without the proxy there is no network to go to.
    ...run.machine.env,
    // Reproducible builds (reproducible-builds.org): the commit's time, unless `env:` sets its own.
    ...(commitTime === undefined ? {} : { SOURCE_DATE_EPOCH: String(commitTime) }),
    // The job container's `env:` (what its processes inherit on GitHub), under the step's.
    ...(inJobContainer ? run.containerEnv : {}),
    ...env,
    // The node's job services (identity tokens): set by the node, not the job.
    ...run.deps.runtime?.env,
    PATH: [...prepend, basePath].join(":"),
    GITHUB_ACTIONS: "true",
    GITHUB_WORKSPACE: p.workspace,
    GITHUB_SHA: s("sha"),
    GITHUB_REF: s("ref"),
    GITHUB_REF_NAME: s("ref_name"),
    GITHUB_REF_TYPE: s("ref_type"),
    GITHUB_HEAD_REF: s("head_ref"),
    GITHUB_BASE_REF: s("base_ref"),
    GITHUB_EVENT_NAME: s("event_name"),
    GITHUB_EVENT_PATH: run.eventPath,
    GITHUB_REPOSITORY: s("repository"),
    GITHUB_REPOSITORY_OWNER: s("repository_owner") || (s("repository").split("/")[0] ?? ""),
    GITHUB_RUN_ID: s("run_id") || run.job.runId,
    GITHUB_RUN_NUMBER: s("run_number") || "1",
    GITHUB_RUN_ATTEMPT: s("run_attempt") || "1",
    GITHUB_JOB: run.job.jobId,
    GITHUB_ACTOR: s("actor"),
    GITHUB_TRIGGERING_ACTOR: s("triggering_actor") || s("actor"),
    GITHUB_WORKFLOW: s("workflow") || run.job.workflow.name,
    GITHUB_WORKFLOW_REF: s("workflow_ref"),
    GITHUB_WORKFLOW_SHA: s("workflow_sha"),
    GITHUB_SERVER_URL: s("server_url"),
    GITHUB_API_URL: s("api_url"),
    GITHUB_GRAPHQL_URL: s("graphql_url"),
    GITHUB_RETENTION_DAYS: s("retention_days"),
    GITHUB_ACTION: id.contextName,
    RUNNER_OS: "Linux",
    RUNNER_ARCH: "X64",
    RUNNER_NAME: "airlock",
    RUNNER_ENVIRONMENT: "self-hosted",
    RUNNER_TEMP: p.temp,
    RUNNER_TOOL_CACHE: p.toolCache,
    ...(run.debug ? { RUNNER_DEBUG: "1" } : {}),
  };
  if (id.action) {
    out.GITHUB_ACTION_PATH = id.action.path;
    out.GITHUB_ACTION_REPOSITORY = id.action.repository;
    out.GITHUB_ACTION_REF = id.action.ref;
  }
  if (id.files) {
    out.GITHUB_ENV = id.files.env;
    out.GITHUB_OUTPUT = id.files.output;
    out.GITHUB_PATH = id.files.path;
    out.GITHUB_STATE = id.files.state;
    out.GITHUB_STEP_SUMMARY = id.files.summary;
  }
  return { ...out, ...extra };
}

/** working-directory: step > defaults.run > workspace; relative paths are below the workspace. */
export function resolveWorkdir(run: JobRun, dir: string | undefined): string {
  const ws = run.machine.paths.workspace;
  if (dir === undefined || dir === "") return ws;
  return path.isAbsolute(dir) ? path.normalize(dir) : path.join(ws, dir);
}
