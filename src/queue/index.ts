// The job queue, public face: PostgreSQL operations, one file per operation, each one statement
// (one round trip). Transitions follow src/orchestrator/states.ts and are enforced in the SQL
// (`WHERE state = ... AND attempt = ...`): a stale agent message (old attempt, job already
// completed, lease expired and job requeued) changes nothing and the operation answers false.
//
//   queued ──assignJobs──▶ assigned ──acceptJob──▶ running ──completeJob/failJob──▶ completed
//     ▲  │                   │ rejectJob (attempt not counted)        │
//     │  └─cancelRunJobs─▶ completed                                  │
//     └──── expireLeases (attempt < max) ◀────────────────────────────┘  else ─▶ lost
export type { Assignment, ClaimedJob, FinishedJob, JobRef, NewJob, Queryable } from "./types.js";
export { enqueueJobs, recordFinishedJob } from "./enqueue.js";
export { assignedNode, claimQueuedJobs, OPERATOR_KEY } from "./claim.js";
export { assignJobs, setWaitReasons } from "./assign.js";
export { acceptJob, acceptJobTimed, type Accepted } from "./accept.js";
export { rejectJob, rejectJobTo } from "./reject.js";
export { renewLeases } from "./heartbeat.js";
export { completeJob, failJob } from "./complete.js";
export { expireLeases, type ExpiredLeases } from "./expire.js";
export { cancelRunJobs, type CancelledRunJobs } from "./cancel.js";
export {
  appendLog,
  appendLogs,
  lastStoredSeq,
  logTime,
  markLogTruncated,
  readLog,
  readLogChunks,
  truncationMarker,
  type AppendResult,
} from "./logs.js";
export { recordStep, type StepPhase } from "./steps.js";
export { storeSummaries } from "./summaries.js";
export { jobsByState, nodeUsage, queueDepth, runningCounts, type NodeUsage } from "./stats.js";
