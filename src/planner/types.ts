// What a run reports: per job (matrix instance) its conclusion, steps and outputs.
import type { Conclusion, JobDescription, JobResult, RunnerEvent } from "../runner/types.js";
import type { Workflow } from "../workflow/model.js";
import type { RepoInfo } from "../git/index.js";
import type { RunIdentity } from "./context.js";

export interface StepReport {
  id: string;
  name: string;
  stage: "pre" | "main" | "post";
  outcome: Conclusion;
  conclusion: Conclusion;
  outputs: Record<string, string>;
  durationMs: number;
}

export interface JobReport {
  /** Job id; jobs of a called reusable workflow are `caller/inner`. */
  id: string;
  name: string;
  workflow: string;
  matrix: Record<string, unknown> | null;
  conclusion: Conclusion;
  /** True when the job failed but has continue-on-error: the run does not fail because of it. */
  continueOnError: boolean;
  outputs: Record<string, string>;
  durationMs: number;
  steps: StepReport[];
  /** Why the job failed before or outside its steps (bad matrix, no machine, ...). */
  error?: string;
}

export interface RunReport {
  conclusion: "success" | "failure" | "cancelled";
  workflows: string[];
  jobs: JobReport[];
  durationMs: number;
}

/** Identifies one job instance for reporters. */
export interface JobInstance {
  key: string;
  id: string;
  name: string;
  workflow: string;
  matrix: Record<string, unknown> | null;
}

export interface RunReporter {
  jobStarted(job: JobInstance): void;
  jobEvent(job: JobInstance, event: RunnerEvent): void;
  jobFinished(job: JobInstance, report: JobReport): void;
}

export interface RunOptions {
  repo: RepoInfo;
  fullName: string;
  identity: RunIdentity;
  event: string;
  payload: Record<string, unknown>;
  ref: string;
  /** Workflows that matched the event. */
  workflows: Workflow[];
  inputs: Record<string, unknown>;
  vars: Record<string, string>;
  secrets: Record<string, string>;
  /** Only these top-level jobs (and what they need). */
  onlyJobs?: string[];
  /**
   * `airlock run --matrix k:v` (as act's): a matrix leg runs only when each of its keys named here
   * has one of the listed values (compared as strings); jobs without a matrix are not affected.
   */
  matrixFilter?: Record<string, string[]>;
  /** Runs job instances: on local machines (`airlock run`) or through the orchestrator's queue. */
  executor: InstanceExecutor;
  /** A server run (the orchestrator): warnings only true of `airlock run` are not shown. */
  server?: boolean;
  /** Loads a reusable workflow named by a job's `uses:`. */
  loadCalledWorkflow(uses: string): Promise<Workflow>;
  reporter: RunReporter;
  signal: AbortSignal;
}

/** A `concurrency:` group as evaluated (planner/concurrency.ts). */
export interface Concurrency {
  /** The group as evaluated (shown in messages); compared case-insensitively. */
  group: string;
  cancelInProgress: boolean;
}

/** One job instance, ready to run. */
export interface InstanceRequest {
  instance: JobInstance;
  description: JobDescription;
  /** runs-on labels, evaluated. */
  labels: string[];
  /** The job's `concurrency:` group, evaluated (the executor holds the job until it may run). */
  concurrency?: Concurrency;
  signal: AbortSignal;
  /** Called when the instance really starts (it got a machine). */
  onStarted(): void;
  onEvent(event: RunnerEvent): void;
}

export interface InstanceExecutor {
  /**
   * Runs the instance to its end and returns the job's result. Must be idempotent by
   * `instance.key` within a run: the orchestrator replays a run's DAG after a restart, and an
   * instance that already ran returns its stored result.
   */
  run(req: InstanceRequest): Promise<JobResult>;
}
