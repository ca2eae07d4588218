// Public face of the CLI's REST API client: connection settings, typed calls, log following.
export {
  ApiClient,
  type ApiClientOptions,
  type AuditListFilter,
  type Me,
  type MemberPlace,
  type RunFilter,
} from "./client.js";
export {
  DEFAULT_SERVER,
  cliConfigPath,
  normalise,
  readCliFile,
  resolveConnection,
  saveCliFile,
  type CliFile,
  type Connection,
  type ConnectionFlags,
} from "./connection.js";
export {
  listSecrets,
  listVariables,
  placePath,
  removeItem,
  setSecret,
  setVariable,
  type ItemKind,
  type ItemPlace,
} from "./secrets.js";
export { followLog, type FollowOptions, type FollowResult } from "./follow.js";
export { parseSse, type SseEvent } from "./sse.js";
export type * from "./types.js";
export {
  listDeployments,
  listEnvironments,
  putEnvironment,
  removeEnvironment,
  reviewDeployments,
  type ReviewAnswer,
} from "./environments.js";
export { provenanceKeys, type ProvenanceKeyView, type ProvenanceKeysView } from "./provenance.js";
export {
  artifactPolicy,
  promoteArtifact,
  setArtifactPolicy,
  type ArtifactPolicyInput,
  type ArtifactPolicyView,
} from "./artifacts.js";
