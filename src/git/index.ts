// Public face of the git module: the one hardened git runner every module uses, and the
// repository reads `airlock run` and the planner need.
export {
  runGit,
  gitEnv,
  GitCommandError,
  ALLOWED_PROTOCOLS,
  DEFAULT_GIT_TIMEOUT_MS,
  type GitResult,
  type GitRunOptions,
} from "./run.js";
export { readRepo, changedFiles, showFile, type RepoInfo } from "./repo.js";
export {
  redactUrls,
  splitUserinfo,
  stripUserinfo,
  stripUrlsDeep,
  stripUrlsIn,
  hasPassword,
  type SplitUrl,
} from "./url.js";
export { withGitAuth, checkBasicAuth, type GitAuth } from "./auth.js";
