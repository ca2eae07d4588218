// Public face of the node agent: createAgent dials out to the orchestrator and runs assigned jobs on
// single-use machines, delivering their output through a bounded on-disk outbox.
export {
  createAgent,
  agentEndpoint,
  type Agent,
  type AgentOptions,
  type AgentStatus,
  type JobAttemptRef,
} from "./agent.js";
export type { AgentLogger } from "./logger.js";
export { fileCredentialStore, memoryCredentialStore, type CredentialStore } from "./credentials.js";
export { exchangeOnce, registerEndpoint } from "./register.js";
export { DEFAULT_NODE_LIMITS, machineLimits, type NodeLimits } from "./job.js";
export { fixedImages, type NodeImages } from "./images.js";
export type { Capacity } from "./capacity.js";
export { detectCapacity, diskSpace, type DiskSpace } from "./capacity.js";
export {
  causeOfClose,
  causeOfError,
  causeOfStatus,
  type CauseKind,
  type ConnectCause,
} from "./connect-cause.js";
export { agentVersion as packageVersion } from "./version.js";
