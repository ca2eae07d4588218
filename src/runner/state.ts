// The mutable state of one job run (shared by every step) and of one step scope (the job's own
// steps, or the private steps of a composite action), plus masked event emission.
import path from "node:path/posix";
import { isAirlockError, ErrorCode } from "../errors/index.js";
import type { Machine } from "../provisioners/types.js";
import { SecretMasker } from "../secrets/masking/index.js";
import type { StepTemplate } from "../workflow/model.js";
import { lineCutMarker } from "./text.js";
import type {
  Conclusion,
  JobDescription,
  LoadedAction,
  LogKind,
  LogSource,
  RunnerDeps,
  StepRef,
  StepResult,
  StepSummary,
} from "./types.js";

export interface StepContextEntry {
  outputs: Record<string, string>;
  outcome: Conclusion;
  conclusion: Conclusion;
}

/** A post step to run at job end (node actions whose main step ran). */
export interface PendingPost {
  action: LoadedAction;
  entry: string;
  postIf: string;
  name: string;
  contextName: string;
  env: Record<string, string>;
  inputs: Record<string, string>;
  state: Record<string, string>;
  /** The scope the main step ran in: `inputs` and `steps` of post-if come from it. */
  scope: Scope;
}

/** An action loaded at job start (to find pre steps); its state flows pre → main → post. */
export interface Preloaded {
  action: LoadedAction | Error;
  state: Record<string, string>;
}

export interface ActionInfo {
  path: string;
  repository: string;
  ref: string;
}

/** Where step IDs and the `steps` context live: the job, or one run of a composite action. */
export interface Scope {
  steps: Record<string, StepContextEntry>;
  /** `inputs` context: workflow inputs at job level, the action's inputs inside a composite. */
  inputs: Record<string, unknown>;
  /** Evaluated `env:` of the enclosing composite steps, outermost first. */
  envOverlays: Array<Record<string, string>>;
  /** The composite action whose steps these are. */
  action?: ActionInfo;
  /** A step of this scope concluded with failure (drives failure()/success() inside it). */
  failed: boolean;
  depth: number;
  /** Generated context names already handed out (`__run`, `__run_2`, ...). */
  names: Map<string, number>;
}

/** After a cancellation, steps that still run (`always()`, post steps) get at most this long each. */
export const CANCEL_GRACE_MS = 5 * 60_000;
/** GitHub's limit on nested composite actions. */
export const MAX_ACTION_DEPTH = 10;
/** Secrets that are switches ("true"), not secret values: never refused for being short, never masked then. */
const DEBUG_SWITCHES = new Set(["ACTIONS_STEP_DEBUG", "ACTIONS_RUNNER_DEBUG"]);

export interface JobContainerContext {
  id: string;
  network: string;
}
export interface JobServiceContext extends JobContainerContext {
  /** Container port → the port the job reaches it at (on localhost and by the service's name). */
  ports: Record<string, string>;
}

export class JobRun {
  readonly machine: Machine;
  readonly masker = new SecretMasker();
  /** Why secrets were refused for masking (SECRET_TOO_SHORT): the job fails before its first step. */
  readonly refusedSecrets: string[] = [];
  /** Workflow and job env, evaluated; GITHUB_ENV writes land here too. */
  readonly env: Record<string, string> = {};
  /** The job container's `env:`, evaluated at set-up: under every step's variables (services.ts). */
  containerEnv: Record<string, string> = {};
  /**
   * `job.container` and `job.services` of the job context, set by "Initialize containers"
   * (services.ts); absent without a job container or services, as in actions/runner.
   */
  containersContext: { container?: JobContainerContext; services?: Record<string, JobServiceContext> } = {};
  /** `defaults.run` evaluated at set-up, after the job env (setUp in job.ts). */
  defaults: { shell?: string; workingDirectory?: string } = {};
  /** GITHUB_PATH entries in the order added (the most recent goes first in PATH). */
  prependPath: string[] = [];
  failed = false;
  /** The limit the machine went over (checkLimits): the job's failure reason; no step runs after. */
  limitExceeded: string | undefined;
  cancelReason: "signal" | "timeout" | undefined;
  readonly abort = new AbortController();
  readonly results: StepResult[] = [];
  readonly summaries: StepSummary[] = [];
  readonly posts: PendingPost[] = [];
  readonly preloaded = new Map<StepTemplate, Preloaded>();
  readonly debug: boolean;
  readonly eventPath: string;
  readonly fileCommandDir: string;
  /** Program name → absolute path inside the machine, per PATH value (misses are not cached). */
  readonly programs = new Map<string, string | null>();
  private seq = 0;

  constructor(
    readonly job: JobDescription,
    readonly deps: RunnerDeps,
  ) {
    this.machine = deps.machine;
    const flag = (v: unknown): boolean => String(v).toLowerCase() === "true";
    this.debug =
      flag(job.contexts.secrets.ACTIONS_STEP_DEBUG) ||
      flag(job.contexts.vars.ACTIONS_STEP_DEBUG) ||
      flag(job.contexts.secrets.ACTIONS_RUNNER_DEBUG) ||
      flag(job.contexts.vars.ACTIONS_RUNNER_DEBUG);
    const temp = this.machine.paths.temp;
    this.eventPath = path.join(temp, "_github_workflow", "event.json");
    this.fileCommandDir = path.join(temp, "_runner_file_commands");
    for (const [name, value] of Object.entries(job.contexts.secrets)) {
      if (typeof value === "string") this.registerSecret(name, value);
    }
    // GitHub registers the job token as a secret as well.
    if (typeof job.contexts.github.token === "string")
      this.registerSecret("github.token", job.contexts.github.token);
    for (const value of deps.runtime?.secrets ?? []) this.registerSecret("job services", value);
    // The clone credential is never given to the job, but git may print it: mask it like a secret.
    const auth = job.sourceAuth;
    if (auth?.kind === "basic") this.maskQuietly(auth.password);
    if (auth?.kind === "ssh-key")
      for (const line of auth.privateKey.split("\n"))
        if (line.trim().length >= 16) this.maskQuietly(line.trim());
  }

  /** Masks a value the job was not given (too short to mask: left alone, the job is not refused). */
  private maskQuietly(value: string): void {
    try {
      this.masker.addSecret(value, "source credential");
    } catch (err) {
      if (!isAirlockError(err, ErrorCode.SECRET_TOO_SHORT)) throw err;
    }
  }

  private registerSecret(name: string, value: string): void {
    try {
      this.masker.addSecret(value, name);
    } catch (err) {
      if (!isAirlockError(err, ErrorCode.SECRET_TOO_SHORT)) throw err;
      if (!DEBUG_SWITCHES.has(name)) this.refusedSecrets.push(`${err.message} (${err.code})`);
    }
  }

  get cancelled(): boolean {
    return this.cancelReason !== undefined;
  }

  cancel(reason: "signal" | "timeout"): void {
    if (this.cancelReason) return;
    this.cancelReason = reason;
    this.abort.abort();
  }

  /** A fresh unique token for file names. */
  token(): string {
    this.seq += 1;
    return `${this.seq}_${Math.random().toString(36).slice(2, 10)}`;
  }

  newRef(id: string, name: string, stage: StepRef["stage"]): StepRef {
    return { index: this.results.length, id, name: this.masker.mask(name), stage };
  }

  emit(event: Parameters<RunnerDeps["onEvent"]>[0]): void {
    try {
      this.deps.onEvent(event);
    } catch {
      // A failing listener must not break the job.
    }
  }

  log(step: StepRef | undefined, stream: "stdout" | "stderr" | "system", kind: LogKind, text: string): void {
    this.emit({ type: "log", ...(step ? { step } : {}), stream, kind, text: this.masker.mask(text) });
  }

  /** A line cut at MAX_LINE_CHARS: a secret the cut splits is masked too (Masker.maskCut). */
  logCut(step: StepRef | undefined, stream: "stdout" | "stderr", text: string, dropped: number): void {
    const masked = this.masker.maskCut(text) + lineCutMarker(dropped);
    this.emit({ type: "log", ...(step ? { step } : {}), stream, kind: "line", text: masked });
  }

  /** `source`: "step" for what a step asked for (`::error::` and co.), "system" for the runner's own. */
  annotate(
    step: StepRef | undefined,
    level: "error" | "warning" | "notice",
    message: string,
    props: { file?: string; line?: number; col?: number; title?: string } = {},
    source: LogSource = "system",
  ): void {
    const m = (s: string | undefined): string | undefined =>
      s === undefined ? undefined : this.masker.mask(s);
    const file = m(props.file);
    const title = m(props.title);
    this.emit({
      type: "annotation",
      ...(step ? { step } : {}),
      level,
      message: this.masker.mask(message),
      ...(file !== undefined ? { file } : {}),
      ...(props.line !== undefined ? { line: props.line } : {}),
      ...(props.col !== undefined ? { col: props.col } : {}),
      ...(title !== undefined ? { title } : {}),
      source,
    });
  }
}

export function newScope(inputs: Record<string, unknown>, parent?: Scope, action?: ActionInfo): Scope {
  return {
    steps: {},
    inputs,
    envOverlays: parent ? [...parent.envOverlays] : [],
    ...(action ? { action } : {}),
    failed: false,
    depth: parent ? parent.depth + 1 : 0,
    names: new Map(),
  };
}

/** GitHub-style context name for a step without `id`: `__run`, `__actions_checkout`, `__self`, + `_N`. */
export function generatedName(scope: Scope, uses: string | undefined, taken: ReadonlySet<string>): string {
  let base = "__run";
  if (uses !== undefined) {
    if (uses.startsWith("./") || uses.startsWith(".\\")) base = "__self";
    else if (uses.startsWith("docker://")) base = "__docker";
    else base = `__${(uses.split("@")[0] ?? uses).replace(/[^A-Za-z0-9_-]/g, "_")}`;
  }
  let n = scope.names.get(base) ?? 0;
  let name: string;
  do {
    n += 1;
    name = n === 1 ? base : `${base}_${n}`;
  } while (taken.has(name));
  scope.names.set(base, n);
  return name;
}
