// Public face of environments (GitHub's `environment:` on a job; issue 8, item 3): the rules
// (pure), the store of environments per repository, the gate that holds a deploying job back
// until its rules let it go, and the review of waiting deployments. No HTTP here: src/server maps
// the API onto these; the orchestrator gates jobs with gateJob/evaluateGate.
export {
  MAX_COMMENT_CHARS,
  MAX_PATTERNS,
  MAX_REVIEWERS,
  MAX_WAIT_TIMER_MINUTES,
  approversText,
  checkRules,
  environmentName,
  needsReview,
  refAllowed,
  refRefusal,
  reviewRefusal,
  waitingForApproval,
  type Reviewer,
  type Rules,
  type RulesInput,
} from "./rules.js";
export {
  deleteEnvironment,
  ensureEnvironment,
  findEnvironment,
  getEnvironment,
  listEnvironments,
  publicView,
  putEnvironment,
  type EnvironmentRow,
  type EnvironmentView,
} from "./store.js";
export { evaluateGate, gateJob, regateEnvironment, type GateOutcome } from "./gate.js";
export {
  listDeployments,
  reviewDeployments,
  type DeploymentView,
  type ReviewRequest,
  type ReviewResult,
} from "./review.js";
