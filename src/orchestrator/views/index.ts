// Public face of the read side: runs, jobs, steps and logs shaped as the REST API returns them
// (docs: /tmp/api.md → the OpenAPI document), the links built from the public address, and the
// aggregate queries behind /metrics.
export { makeLinks, type Links } from "./links.js";
export {
  listRuns,
  getRun,
  runSummaryFromRow,
  RUN_STATUSES,
  type RunStatus,
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
export { queueStats, databaseUp, dashboardStats, type DashboardStats, type QueueStats } from "./stats.js";
export {
  formatPosition,
  jobOfRunAttempt,
  parsePosition,
  readLogPage,
  LOG_PAGE_DEFAULT,
  LOG_PAGE_MAX,
  type LogPage,
} from "./log-page.js";
export { runAnnotations, ANNOTATIONS_MAX, type Annotation, type RunAnnotations } from "./annotations.js";
export { jobSummaries, type JobStepSummary } from "./summaries.js";
export { latestRunStatus, repositoriesNamed, type BadgeRepository, type BadgeStatus } from "./badge.js";
