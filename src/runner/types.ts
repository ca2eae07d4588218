// The job runner's contract: a plain, serialisable job description in, events out.
// The local `airlock run` and (later) the orchestrator's node agent use it unchanged.
import type { StepTemplate, Template } from "../workflow/model.js";
import type { Permissions } from "../workflow/permissions.js";
import type { GitAuth } from "../git/index.js";
import type { ContainerSpec, Machine } from "../provisioners/types.js";

export type Conclusion = "success" | "failure" | "skipped" | "cancelled";

export interface JobDescription {
  runId: string;
  /** The job's key in the workflow (github.job). */
  jobId: string;
  /** Display name, with matrix values: "build (ubuntu, 18)". */
  displayName: string;
  workflow: { file: string; name: string };
  /**
   * Context values known before the job starts, as plain JSON: github, inputs, vars, secrets,
   * needs, matrix, strategy. The runner adds env, job, steps and runner.
   */
  contexts: {
    github: Record<string, unknown>;
    inputs: Record<string, unknown>;
    vars: Record<string, string>;
    secrets: Record<string, string>;
    needs: Record<string, { result: string; outputs: Record<string, string> }>;
    matrix: Record<string, unknown> | null;
    strategy: Record<string, unknown>;
  };
  /** Workflow env then job env (job wins), unevaluated. */
  env: Array<Record<string, Template>>;
  /**
   * `defaults.run` merged (job over workflow), as written: the runner evaluates it once the job env
   * is known, since GitHub lets it read `env` (older producers sent it evaluated, which reads the same).
   */
  defaults: { shell?: string; workingDirectory?: string };
  steps: StepTemplate[];
  /** Job outputs (templates), evaluated when the job ends. */
  outputs: Record<string, Template>;
  /** Whole-job wall-time limit. */
  timeoutMinutes: number;
  /**
   * The job's `environment:`, its name evaluated (as written in the workflow, any case); `url` is
   * evaluated when the job ends and reported as JobResult.environmentUrl. Absent: no environment.
   */
  environment?: { name: string; url?: Template };
  /** Where the code comes from: the initial workspace and the built-in actions/checkout. */
  source: {
    repository: string;
    commit: string;
    ref: string;
    repositoryName: string;
    /**
     * The commit's committer time in seconds since the epoch: every step's SOURCE_DATE_EPOCH unless
     * the workflow sets its own (reproducible builds). Absent (unknown, older producers): not set.
     */
    commitTime?: number;
  };
  /**
   * The job's effective `permissions:` (job level replaces workflow level; src/workflow/permissions.ts),
   * decided by the planner. Absent (older producers): none. `id-token: write` is what lets the
   * orchestrator hand the job an identity-token request token.
   */
  permissions?: Permissions;
  /**
   * Secrets of a server run, sealed under the run DEK (src/secrets/run-keys.ts): name → sealed
   * value. The node opens them only after redeeming the attempt's release token for the machine
   * it created (src/agent/release.ts), and puts them into `contexts.secrets`. Absent for local runs.
   */
  sealedSecrets?: Record<string, string>;
  /**
   * The repository's clone credential (clone password or deploy key), sealed under the run DEK
   * like the secrets (name SOURCE_CREDENTIAL_NAME); opened on the node with them into `sourceAuth`.
   */
  sealedSource?: string;
  /**
   * The opened clone credential: set on the node after the release, for the workspace checkout
   * only (masked in the job's output; never in a context, never stored or sent anywhere).
   */
  sourceAuth?: GitAuth;
  /**
   * The run's trust tier (absent: trusted). In an untrusted run the expressions of `run:` scripts
   * reach the script as environment variables, never as script text (src/runner/injection.ts).
   */
  trustTier?: "trusted" | "untrusted";
  /** Warnings the orchestrator found while planning (e.g. a secret set nowhere), shown at job start. */
  warnings?: string[];
  /**
   * `container:` (src/containers/spec.ts): image, options (split into words, checked against the
   * pool's allow-list by the node), volumes and ports evaluated by the planner; `env` and
   * `credentials` as written, evaluated on the node with the job's secrets. Absent: no container.
   */
  container?: ContainerSpec;
  /** `services:` by name (a DNS label), planned like `container`. Absent: none. */
  services?: Record<string, ContainerSpec>;
  /**
   * The remote actions of a server run's job (its steps' and, recursively, its remote composite
   * actions' `owner/repo@ref`), each at the commit the orchestrator resolved it to when it queued
   * the job (src/actions/pins.ts): the node fetches exactly that commit, and the artifact's
   * provenance names it. Absent (local runs, older producers): the node resolves refs itself.
   */
  resolvedActions?: ResolvedAction[];
}

/** One remote action (`owner/repo@ref`) at the commit its ref resolved to. */
export interface ResolvedAction {
  /** owner/repo, as written in `uses:`. */
  name: string;
  /** The ref as written (a tag, branch or full commit id). */
  ref: string;
  /** The full commit id (lowercase hex). */
  commit: string;
  /** Where it was resolved (the actions URL's repository, without credentials). */
  url: string;
}

export interface StepRef {
  /** 0-based position in the job's list of executed steps (pre and post steps included). */
  index: number;
  id: string;
  name: string;
  stage: "pre" | "main" | "post";
}

export interface StepResult extends StepRef {
  outcome: Conclusion;
  conclusion: Conclusion;
  outputs: Record<string, string>;
  durationMs: number;
}

/** Markdown a step wrote to GITHUB_STEP_SUMMARY, already masked. */
export interface StepSummary {
  step: StepRef;
  markdown: string;
}

export interface JobResult {
  conclusion: Exclude<Conclusion, "skipped">;
  outputs: Record<string, string>;
  steps: StepResult[];
  durationMs: number;
  /** Step summaries in step order (additive; absent from older producers). */
  summaries?: StepSummary[];
  /** The job's `environment.url`, evaluated when it ended (additive; absent without one). */
  environmentUrl?: string;
  /** Why the job failed when no step says it (e.g. "memory limit 4096 MiB exceeded"); additive. */
  error?: string;
}

export type LogKind = "line" | "group-start" | "group-end" | "debug" | "command";

/**
 * Who wrote a log record: "system" for Airlock's own lines (step started and finished, the job's
 * conclusion, the runner's annotations, host lines such as egress decisions), "step" for what a
 * job's processes printed or asked for. Stored with every log chunk, so a job printing
 * "Job success" cannot pass for Airlock.
 */
export type LogSource = "system" | "step";

export type RunnerEvent =
  | { type: "job-started"; at: number }
  | { type: "step-started"; step: StepRef; at: number }
  /** One line of output, already masked, without its trailing newline. */
  | { type: "log"; step?: StepRef; stream: "stdout" | "stderr" | "system"; kind: LogKind; text: string }
  | {
      type: "annotation";
      step?: StepRef;
      level: "error" | "warning" | "notice";
      message: string;
      file?: string;
      line?: number;
      col?: number;
      title?: string;
      /** Absent (older producers): treated as "step", the untrusted side. */
      source?: LogSource;
    }
  | { type: "step-finished"; step: StepRef; result: StepResult }
  | { type: "job-finished"; result: JobResult };

/** An action's metadata (action.yml), as parsed by the actions module. */
export interface ActionManifest {
  name: string;
  description?: string;
  inputs: Record<string, { default?: Template; required?: boolean; deprecationMessage?: string }>;
  outputs: Record<string, { value?: Template; description?: string }>;
  runs:
    | { using: "composite"; steps: StepTemplate[] }
    | {
        using: "node12" | "node16" | "node20" | "node24";
        main: string;
        pre?: string;
        post?: string;
        preIf?: string;
        postIf?: string;
      }
    | {
        using: "docker";
        /** `Dockerfile` (a path in the action's folder) or `docker://image`. */
        image: string;
        /** `runs.args`, evaluated with `inputs` when the step runs; absent: `with: args` split into words. */
        args?: Template[];
        entrypoint?: string;
        /** `runs.env`, evaluated with `inputs`; the step's own variables win. */
        env?: Record<string, Template>;
        preEntrypoint?: string;
        postEntrypoint?: string;
        preIf?: string;
        postIf?: string;
      };
}

export interface LoadedAction {
  /** `uses:` as written. */
  uses: string;
  /** Folder inside the machine that holds the action's files. */
  dir: string;
  manifest: ActionManifest;
}

/** Resolves `uses:` references of steps, making the action's files available in the machine. */
export interface ActionLoader {
  /**
   * `./path` is read from the machine's workspace; `owner/repo[/path]@ref` is fetched (cached on the
   * host by resolved commit) and copied into the machine; with a pin for its owner/repo@ref (the
   * job's `resolvedActions`), at that commit and no other. Throws AirlockError ACTION_*.
   */
  load(uses: string, machine: Machine, pins?: readonly ResolvedAction[]): Promise<LoadedAction>;
}

/** Puts the repository at a commit into a machine (initial workspace and actions/checkout). */
export interface WorkspaceSource {
  checkout(
    machine: Machine,
    opts: {
      repository: string;
      commit: string;
      ref: string;
      path: string;
      clean: boolean;
      /** How git authenticates to the repository (the job's sourceAuth), if it needs to. */
      auth?: GitAuth;
    },
  ): Promise<void>;
}

/**
 * Backpressure from whoever consumes the events: while `blocked()`, the runner stops reading the
 * job's output pipes (the job's writes block) until `whenUnblocked()` resolves.
 */
export interface OutputFlow {
  blocked(): boolean;
  whenUnblocked(): Promise<void>;
}

/** Lines the host adds to a job's log while it runs (e.g. egress decisions); masked like any output. */
export interface HostLog {
  /** Lines pushed before attach are delivered then; returns detach. */
  attach(sink: (text: string) => void): () => void;
}

export interface RunnerDeps {
  machine: Machine;
  hostLog?: HostLog;
  actions: ActionLoader;
  source: WorkspaceSource;
  onEvent(event: RunnerEvent): void;
  signal?: AbortSignal;
  /** Absent: output is read as fast as it comes (local `airlock run`). */
  flow?: OutputFlow;
  /** Variables of the node's job services for every step, and their secrets (masked). */
  runtime?: JobRuntime;
}

/**
 * What the node's job services add to a job (src/agent/job-services.ts): variables every step's
 * process gets (ACTIONS_ID_TOKEN_REQUEST_URL, ...; a step's own env cannot replace them), and the
 * secret values among them, registered with the job's masker (the request token).
 */
export interface JobRuntime {
  env: Record<string, string>;
  /**
   * Variables only actions' processes get (JavaScript and Docker actions, not `run:` scripts), as
   * actions/runner gives ACTIONS_RUNTIME_TOKEN, ACTIONS_RESULTS_URL and the cache variables only to
   * the action handlers: a script that needs them must go through an action.
   */
  actionEnv?: Record<string, string>;
  secrets: string[];
}
