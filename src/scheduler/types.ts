// The scheduler's inputs and outputs: plain data, so placement stays a pure function that the
// dispatcher (DB + agents) and the tests call alike.

export interface ImageDef {
  id: number;
  name: string;
  labels: string[];
  requiredLabels: string[];
  /** The provisioner that builds machines from this image (e.g. `sandbox`). */
  provisioner: string;
}

export interface FlavourDef {
  id: number;
  name: string;
  cpus: number;
  memoryMb: number;
  diskMb: number;
  labels: string[];
  requiredLabels: string[];
}

/** Low-trust pools run untrusted runs' jobs; high-trust pools run trusted ones (docs/security.md). */
export type PoolTrust = "low" | "high";
export type RunTrust = "trusted" | "untrusted";

export interface PoolInfo {
  name: string;
  trust: PoolTrust;
  /** Every repository may use it without an authorization (the `default` pool). */
  open: boolean;
  /**
   * A deploy pool (migration 040, high trust only): its jobs are gated like deployments, so a job
   * whose run has rebuilds under way is not placed here (JobToPlace.runRebuildsPending). Absent: false.
   */
  deploy?: boolean;
}

/** A node without a pool is in the open, high-trust pool `default` (not a deploy pool). */
export const DEFAULT_POOL: PoolInfo = { name: "default", trust: "high", open: true };

export interface NodeState {
  id: number;
  name: string;
  /** What the administrator gave the node (never what its agent claims). */
  labels: string[];
  requiredLabels: string[];
  /** False while the node is drained: no new machines, running ones finish. */
  enabled: boolean;
  connected: boolean;
  /** Its agent is stopping gracefully: it finishes its running jobs and takes no new ones. Absent: false. */
  draining?: boolean;
  cpus: number;
  memoryMb: number;
  diskMb: number;
  /** Used by the machines the node runs now. */
  usedCpus: number;
  usedMemoryMb: number;
  usedDiskMb: number;
  /** Image names this node can run. */
  images: string[];
  /** Provisioner names this node offers. */
  provisioners: string[];
  /** Absent: DEFAULT_POOL. */
  pool?: PoolInfo;
  /** It ran a low-trust job: it never runs a trusted one again until it is re-registered. */
  tainted?: boolean;
  /**
   * Who runs it, as replicas compare it (operatorKey, corroboration/): its operator's name, "" for
   * a trusted worker with none named (this installation), `node:<id>` for an untrusted one with
   * none named. Absent: "".
   */
  operator?: string;
  /** Worker trust (migration 033): set by an administrator. Absent: trusted. */
  workerTrust?: "trusted" | "untrusted";
}

/** A replica's constraints (migration 038): another operator than every sibling build's. */
export interface ReplicaSpec {
  /** The job it rebuilds: replicas of one job placed in one batch go to different operators too. */
  of: number;
  /** Operators (NodeState.operator) whose nodes built or are building the job or its other replicas. */
  excludeOperators: readonly string[];
  /** Only a trusted worker. */
  trustedWorker: boolean;
}

export interface JobToPlace {
  id: number;
  /** `runs-on` labels: hard requirements (every one must be present). */
  labels: string[];
  projectId: number;
  organizationId: number;
  /** The run's trust tier; absent: trusted. */
  trust?: RunTrust;
  /** Closed pools the job's repository is authorized to use (open pools need none). */
  pools?: readonly string[];
  /**
   * It has `container:`, `services:` or a `docker://` step: only an image whose provisioner runs containers
   * (CONTAINER_PROVISIONERS) can take it, whatever else its labels match. Absent: false.
   */
  containers?: boolean;
  /** A replica of another job (independent rebuilds): only nodes of another operator. Absent: not one. */
  replica?: ReplicaSpec;
  /**
   * A deployment (a job with an `environment:`) whose run still has independent rebuilds under way:
   * it waits for their verdict before it may consume the artifacts (REBUILDS_PENDING). Absent: false.
   */
  awaitingRebuilds?: boolean;
  /**
   * Its run has independent rebuilds under way (any job, deployment or not): it may run on any
   * node but a deploy pool's until they are judged (REBUILDS_PENDING when only such nodes could
   * take it). Absent: false.
   */
  runRebuildsPending?: boolean;
}

/** Provisioners whose machines run workflow containers (`container:`, `services:`, Docker actions). */
export const CONTAINER_PROVISIONERS: ReadonlySet<string> = new Set(["container"]);

/** Running counts and limits; a missing count is 0, a missing or null limit is "no limit". */
export interface Limits {
  projectRunning: Map<number, number>;
  organizationRunning: Map<number, number>;
  projectLimit: Map<number, number | null>;
  organizationLimit: Map<number, number | null>;
}

/** Why a job waits, as a stable code (for the API, metrics and tests) next to the sentence. */
export const WaitCode = {
  NO_IMAGE: "NO_IMAGE",
  IMAGE_REQUIRES_LABEL: "IMAGE_REQUIRES_LABEL",
  /** It has `container:`/`services:` and no image with a container provisioner matches its labels. */
  NO_CONTAINER_IMAGE: "NO_CONTAINER_IMAGE",
  NO_FLAVOUR: "NO_FLAVOUR",
  FLAVOUR_REQUIRES_LABEL: "FLAVOUR_REQUIRES_LABEL",
  NO_NODE_WITH_IMAGE: "NO_NODE_WITH_IMAGE",
  NO_NODE_WITH_PROVISIONER: "NO_NODE_WITH_PROVISIONER",
  NO_NODE_WITH_LABELS: "NO_NODE_WITH_LABELS",
  NODE_REQUIRES_LABEL: "NODE_REQUIRES_LABEL",
  NO_LOW_TRUST_POOL: "NO_LOW_TRUST_POOL",
  NO_HIGH_TRUST_NODE: "NO_HIGH_TRUST_NODE",
  AWAITING_AUTHORIZATION: "AWAITING_AUTHORIZATION",
  NO_NODE_LARGE_ENOUGH: "NO_NODE_LARGE_ENOUGH",
  NODES_UNAVAILABLE: "NODES_UNAVAILABLE",
  PROJECT_LIMIT: "PROJECT_LIMIT",
  ORGANIZATION_LIMIT: "ORGANIZATION_LIMIT",
  NODES_FULL: "NODES_FULL",
  NODES_HELD: "NODES_HELD",
  /** A replica: no eligible node of an operator that has not built the job yet (or no trusted worker). */
  NO_REPLICA_NODE: "NO_REPLICA_NODE",
  /**
   * A deployment waits for the verdict of its run's independent rebuilds; so does a job that only
   * deploy pools' nodes could take.
   */
  REBUILDS_PENDING: "REBUILDS_PENDING",
  /** Held by its `concurrency:` group (another run or job of the repository holds it). */
  CONCURRENCY_GROUP: "CONCURRENCY_GROUP",
} as const;
export type WaitCode = (typeof WaitCode)[keyof typeof WaitCode];

export interface Wait {
  code: WaitCode;
  reason: string;
  /** AWAITING_AUTHORIZATION: the pools the job could run in once authorized (to request). */
  pools?: string[];
}

export interface Placed {
  jobId: number;
  image: ImageDef;
  flavour: FlavourDef;
  /** The caller's NodeState object, unchanged (placement never mutates its inputs). */
  node: NodeState;
}

export interface Waiting {
  jobId: number;
  waitReason: string;
  waitCode: WaitCode;
  /** AWAITING_AUTHORIZATION: the pools the job could run in once authorized (to request). */
  pools?: string[];
}

export type Placement = Placed | Waiting;

export function isPlaced(p: Placement): p is Placed {
  return "node" in p;
}
