// Public face of the scheduler: pure, deterministic job placement (no DB, no I/O). The
// dispatcher loads queued jobs, images, flavours, node states and limits, calls placeJobs, and
// stores each placement or wait reason. Semantics: labels.ts, nodes.ts and place.ts headers.
export { chooseBest, HOSTED_ALIASES, IMPLICIT_NODE_LABELS } from "./labels.js";
export { placeJobs, explainWait } from "./place.js";
export { concurrencyGroup, NO_REPLICA_PREFIXES, type GroupHolder } from "./reasons.js";
export {
  WaitCode,
  CONTAINER_PROVISIONERS,
  DEFAULT_POOL,
  isPlaced,
  type PoolInfo,
  type PoolTrust,
  type RunTrust,
  type FlavourDef,
  type ImageDef,
  type JobToPlace,
  type Limits,
  type NodeState,
  type Placed,
  type Placement,
  type Wait,
  type Waiting,
} from "./types.js";
