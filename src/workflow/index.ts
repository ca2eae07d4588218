// Public face of the workflow module: parsing and validating workflow files and action.yml,
// trigger matching, matrix expansion and dispatch inputs. The model lives in model.ts.
export type * from "./model.js";
export { parseWorkflow } from "./parse.js";
export { loadWorkflows, readInsideRepo } from "./load.js";
export { parseActionManifest } from "./action-manifest.js";
export { parseActionManifestOffLoop, parseWorkflowOffLoop, PARSE_TIME_LIMIT_MS } from "./off-loop.js";
export { MAX_DEPTH, MAX_EXPANDED_NODES, MAX_FILE_BYTES } from "./guard.js";
export { matchesTrigger, triggerEventOf, type TriggerEvent } from "./triggers.js";
export {
  MIN_SCHEDULE_INTERVAL_MS,
  parseSchedule,
  type CronSchedule,
  type ScheduleParse,
} from "./schedule.js";
export { matchesPatterns } from "./filter-pattern.js";
export { expandMatrix, MAX_MATRIX_COMBINATIONS } from "./matrix.js";
export { dispatchInputs, resolveDispatch, type DispatchResolution } from "./inputs.js";
export { conditionText } from "./expressions.js";
export {
  buildPermissions,
  capPermissions,
  DEFAULT_PERMISSIONS,
  effectivePermissions,
  mayRequestIdToken,
  type PermissionLevel,
  type Permissions,
} from "./permissions.js";
