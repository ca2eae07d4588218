// The plain, serialisable workflow model produced by the parser. Fields that may hold
// expressions keep their text as written ("echo ${{ matrix.os }}"): they are evaluated later,
// by the planner (job level) or the job runner (step level). `if` fields hold the bare
// expression text, without the ${{ }} wrapper.

import type { Permissions } from "./permissions.js";

/** Plain JSON in which strings may contain `${{ }}` expressions. */
export type Template = unknown;

export interface InputDef {
  type: "string" | "boolean" | "number" | "choice" | "environment";
  required: boolean;
  default?: Template;
  options?: string[];
  description?: string;
}

export interface EventFilter {
  branches?: string[];
  branchesIgnore?: string[];
  tags?: string[];
  tagsIgnore?: string[];
  paths?: string[];
  pathsIgnore?: string[];
  types?: string[];
  /** workflow_dispatch / workflow_call inputs. */
  inputs?: Record<string, InputDef>;
  /** workflow_call outputs: value is a template evaluated against the called workflow's jobs. */
  outputs?: Record<string, { value: string; description?: string }>;
  /** workflow_call secrets. */
  secrets?: Record<string, { required: boolean; description?: string }>;
  /** schedule: cron strings. */
  cron?: string[];
  /** workflow_run: the `name:`s of the workflows whose runs trigger this one. */
  workflows?: string[];
}

export interface RunDefaults {
  shell?: Template;
  workingDirectory?: Template;
}

export interface StepTemplate {
  /** Explicit `id`, if any. The runner generates `__N` ids for the others. */
  id?: string;
  name?: Template;
  if?: string;
  uses?: string;
  run?: Template;
  shell?: Template;
  workingDirectory?: Template;
  with?: Record<string, Template>;
  env?: Record<string, Template>;
  continueOnError?: Template;
  timeoutMinutes?: Template;
}

/**
 * `concurrency:` as written: a string is the group; `{ group, cancel-in-progress }` otherwise. Both
 * may hold expressions (workflow level: github, inputs, vars; job level: also needs, strategy, matrix).
 */
export interface ConcurrencyTemplate {
  group: Template;
  cancelInProgress?: Template;
}

export interface StrategyTemplate {
  /** The matrix mapping, or a string expression producing one (e.g. fromJSON(needs.x.outputs.m)). */
  matrix?: Template;
  failFast?: Template;
  maxParallel?: Template;
}

export interface JobTemplate {
  id: string;
  name?: Template;
  needs: string[];
  if?: string;
  runsOn?: Template;
  env?: Record<string, Template>;
  defaults?: RunDefaults;
  strategy?: StrategyTemplate;
  timeoutMinutes?: Template;
  continueOnError?: Template;
  outputs?: Record<string, Template>;
  steps: StepTemplate[];
  /** Reusable workflow call: `./.github/workflows/x.yml` or `owner/repo/path@ref`. */
  uses?: string;
  with?: Record<string, Template>;
  secrets?: "inherit" | Record<string, Template>;
  /**
   * `environment:`: a string is the name; `{ name, url }` as written. The name is evaluated by the
   * planner (github, needs, strategy, matrix, vars, inputs), the URL when the job ends (steps too).
   */
  environment?: { name: Template; url?: Template };
  /** `container:` and `services:` as written: they need the container provisioner (not yet there). */
  container?: Template;
  services?: Template;
  /** `permissions:` as written (permissions.ts); absent: the workflow's. */
  permissions?: Permissions;
  concurrency?: ConcurrencyTemplate;
}

/** A feature the workflow uses that Airlock accepts but does not honour (src/workflow/warnings.ts). */
export interface WorkflowWarning {
  /** The job it concerns (shown at the top of that job's log); absent: the whole workflow. */
  job?: string;
  /** `file:line:col: message`. */
  text: string;
  /** Only true of `airlock run` (what a server provides and a local run does not): servers drop it. */
  localOnly?: boolean;
}

export interface Workflow {
  /** Path relative to the repository root, with forward slashes. */
  file: string;
  /** `name:`, or the file path when absent. */
  name: string;
  runName?: Template;
  /** Normalised triggers: event name → filter (empty object when the event has no filter). */
  on: Record<string, EventFilter>;
  env: Record<string, Template>;
  defaults?: RunDefaults;
  /** `permissions:` as written (permissions.ts); absent: GitHub's restricted default. */
  permissions?: Permissions;
  concurrency?: ConcurrencyTemplate;
  /** In file order. */
  jobs: JobTemplate[];
  /** Accepted but not honoured (absent when there is nothing to say). */
  warnings?: WorkflowWarning[];
}
