// Public face of the read side: runs, jobs, steps and logs shaped as the REST API returns them
// (docs: /tmp/api.md → the OpenAPI document), the links built from the public address, and the
// aggregate queries behind /metrics.
export { makeLinks, type Links } from "./links.js";
export {
  listRuns,
  getRun,
  runSummaryFromRow,
  type Run,
  type RunAttempt,
  type RunDetail,
  type RunFilter,
} from "./runs.js";
export { getJob, jobsOfRun, jobStatus, logJobOf, type Job, type Step } from "./jobs.js";
export {
  readLogChunks,
  allLogChunks,
  comparePositions,
  timestampLines,
  type LogPosition,
  type LogStreamChunk,
  type LogStreamEnd,
} from "./logs.js";
export { queueStats, databaseUp, type QueueStats } from "./stats.js";
