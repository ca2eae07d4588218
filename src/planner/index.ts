// Public face of the planner: runs the jobs of every workflow that matched an event, each job
// instance on its own single-use machine, and reports per-job conclusions.
import { runGraph, type RunState } from "./graph.js";
import { githubContext } from "./context.js";
import type { RunOptions, RunReport } from "./types.js";

export type {
  Concurrency,
  InstanceExecutor,
  InstanceRequest,
  JobInstance,
  JobReport,
  RunOptions,
  RunReport,
  RunReporter,
  StepReport,
} from "./types.js";
export { createMachineExecutor, type MachineExecutorOptions } from "./machine-executor.js";
export { defaultPayload, eventRef, repositoryName, type RunIdentity } from "./context.js";
export { Limiter } from "./limiter.js";
export {
  evaluateConcurrency,
  groupKey,
  withConcurrencyGroups,
  workflowConcurrency,
  MAX_GROUP_LENGTH,
} from "./concurrency.js";
export { githubUrls, type GitHubUrls } from "./github-urls.js";

export async function executeRun(opts: RunOptions): Promise<RunReport> {
  const started = Date.now();
  const state: RunState = { opts, reports: [] };
  await Promise.all(
    opts.workflows.map((workflow) =>
      runGraph(state, {
        workflow,
        idPrefix: "",
        namePrefix: "",
        keyPrefix: "",
        inputs: opts.inputs,
        secrets: opts.secrets,
        github: githubContext({
          event: opts.event,
          payload: opts.payload,
          repo: opts.repo,
          fullName: opts.fullName,
          ref: opts.ref,
          identity: opts.identity,
          workflowName: workflow.name,
          workflowFile: workflow.file,
        }),
        ...(opts.onlyJobs ? { only: new Set(opts.onlyJobs) } : {}),
      }),
    ),
  );
  const failed = state.reports.some((r) => r.conclusion === "failure" && !r.continueOnError);
  const cancelled = opts.signal.aborted || state.reports.some((r) => r.conclusion === "cancelled");
  return {
    conclusion: failed ? "failure" : cancelled ? "cancelled" : "success",
    workflows: opts.workflows.map((w) => w.file),
    jobs: state.reports,
    durationMs: Date.now() - started,
  };
}
