// Runs and jobs of the CLI tests' stub server: a run moves one step per GET, so a test sees
// every state without depending on time.
import type { Job, RunDetail, RunSummary } from "../../src/cli/api/index.js";

export const T0 = "2024-05-01T10:00:00.000Z";
export const T1 = "2024-05-01T10:01:05.000Z";

export type StubRun = RunDetail & { polls: number; outcome: string; inputs: Record<string, string> | null };

export const summary = (r: StubRun): RunSummary => ({
  id: r.id,
  repositoryId: r.repositoryId,
  number: r.number,
  event: r.event,
  ref: r.ref,
  commit: r.commit,
  state: r.state,
  conclusion: r.conclusion,
  attempt: r.attempt,
  url: r.url,
});

export const makeJob = (id: number, runId: number, baseUrl: string): Job => ({
  id,
  runId,
  key: "ci.yml/build",
  jobId: "build",
  name: "build",
  workflow: "ci.yml",
  matrix: null,
  labels: ["debian-12"],
  state: "queued",
  conclusion: null,
  runAttempt: 1,
  reusedFrom: null,
  attempt: 1,
  node: null,
  image: "debian-12",
  flavour: "small",
  waitReason: "no enabled node has image `debian-12`",
  error: null,
  outputs: {},
  logBytes: 0,
  logTruncated: false,
  createdAt: T0,
  startedAt: null,
  finishedAt: null,
  url: `${baseUrl}/api/v1/jobs/${id}/logs`,
  steps: [],
});

/** One step per GET: queued (waiting) → running on node-1 → completed with the run's outcome. */
export const advance = (run: StubRun): void => {
  run.polls += 1;
  const job = run.jobs[0] as Job;
  if (run.polls === 2) {
    Object.assign(run, { state: "running", startedAt: T0 });
    Object.assign(job, { state: "running", node: "node-1", waitReason: null, startedAt: T0 });
  } else if (run.polls >= 3) {
    Object.assign(run, { state: "completed", conclusion: run.outcome, finishedAt: T1 });
    Object.assign(job, {
      state: "completed",
      conclusion: run.outcome,
      finishedAt: T1,
      steps: [
        {
          index: 0,
          id: null,
          name: "Checkout",
          stage: "main",
          outcome: "success",
          conclusion: "success",
          startedAt: T0,
          finishedAt: T0,
        },
        {
          index: 1,
          id: "test",
          name: "Run tests",
          stage: "main",
          outcome: run.outcome,
          conclusion: run.outcome,
          startedAt: T0,
          finishedAt: T1,
        },
      ],
    });
  }
};
