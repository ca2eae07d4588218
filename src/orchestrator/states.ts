// States of runs and jobs, with the transitions allowed between them. The queue's SQL enforces
// them (`UPDATE ... WHERE state = <from>`), so a transition that is not listed here never happens.

export const RunState = { queued: "queued", running: "running", completed: "completed" } as const;
export type RunState = (typeof RunState)[keyof typeof RunState];

export const RUN_TRANSITIONS: Record<RunState, RunState[]> = {
  queued: ["running", "completed"],
  running: ["completed"],
  completed: [],
};

export const JobState = {
  /** Waiting for a node (its wait_reason says why). */
  queued: "queued",
  /** Placed on a node and sent to its agent; the lease is running. */
  assigned: "assigned",
  /** The agent accepted it and is running it; heartbeats renew the lease. */
  running: "running",
  /** Finished: conclusion success, failure, cancelled or skipped. */
  completed: "completed",
  /** Its lease expired more often than max_attempts allows. */
  lost: "lost",
} as const;
export type JobState = (typeof JobState)[keyof typeof JobState];

export const JOB_TRANSITIONS: Record<JobState, JobState[]> = {
  queued: ["assigned", "completed"], // placed; or cancelled while waiting
  assigned: ["running", "queued", "completed", "lost"], // accepted; lease expired (retry); cancelled/rejected; lost
  running: ["completed", "queued", "lost"], // finished; lease expired (retry) or lost
  completed: [],
  lost: [],
};

export function canTransition(from: JobState, to: JobState): boolean {
  return JOB_TRANSITIONS[from].includes(to);
}
