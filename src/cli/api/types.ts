// Shapes of the REST API v1 responses and request bodies, as written in the API contract
// (api.md). The CLI only reads them; the server owns their definition.

export interface WebhookUrls {
  github: string;
  gitlab: string;
  gitea: string;
  bitbucket: string;
}

export interface Repository {
  id: number;
  name: string;
  cloneUrl: string;
  defaultBranch: string;
  pollIntervalSeconds: number | null;
  maxConcurrentJobs: number | null;
  createdAt: string;
  webhookUrls: WebhookUrls;
}

export interface CreatedRepository extends Repository {
  /** Returned only by the create call: the CLI prints it once. */
  webhookSecret: string;
}

export interface AddRepositoryBody {
  name: string;
  cloneUrl: string;
  defaultBranch?: string;
  pollIntervalSeconds?: number | null;
  maxConcurrentJobs?: number | null;
}

export interface RunSummary {
  id: number;
  repositoryId: number;
  /** Per repository, counting from 1. */
  number: number;
  event: string;
  ref: string;
  commit: string;
  state: string;
  conclusion: string | null;
  url: string;
}

export interface Run extends RunSummary {
  repository: string;
  title: string;
  /** webhook, manual, poll or rerun. */
  trigger: string;
  actor: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
}

export interface Step {
  index: number;
  id: string | null;
  name: string;
  stage: string;
  outcome: string | null;
  conclusion: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface Job {
  id: number;
  key: string;
  jobId: string;
  name: string;
  workflow: string;
  matrix: Record<string, unknown> | null;
  labels: string[];
  state: string;
  conclusion: string | null;
  attempt: number;
  node: string | null;
  image: string | null;
  flavour: string | null;
  waitReason: string | null;
  error: string | null;
  outputs: Record<string, string> | null;
  logBytes: number;
  logTruncated: boolean;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  url: string;
  steps: Step[];
}

export interface RunDetail extends Run {
  jobs: Job[];
}

export interface TriggerBody {
  ref?: string;
  commit?: string;
  event?: string;
  inputs?: Record<string, string>;
}

export interface RunFilter {
  repository?: number | string;
  state?: string;
  limit?: number;
}

export interface Node {
  id: number;
  name: string;
  labels: string[];
  requiredLabels: string[];
  cpus: number | null;
  memoryMb: number | null;
  diskMb: number | null;
  provisioners: string[];
  images: string[];
  enabled: boolean;
  connected: boolean;
  lastSeenAt: string | null;
  running: number;
}

export interface AddNodeBody {
  name: string;
  labels?: string[];
  requiredLabels?: string[];
}

export interface Image {
  id: number;
  name: string;
  labels: string[];
  requiredLabels: string[];
  provisioner: string;
  source: string;
  [extra: string]: unknown;
}

export interface AddImageBody {
  name: string;
  labels?: string[];
  requiredLabels?: string[];
  provisioner?: string;
  source?: string;
}

export interface Flavour {
  id: number;
  name: string;
  cpus: number;
  memoryMb: number;
  diskMb: number;
  labels: string[];
  requiredLabels: string[];
  [extra: string]: unknown;
}

export interface AddFlavourBody {
  name: string;
  cpus: number;
  memoryMb: number;
  diskMb: number;
  labels?: string[];
  requiredLabels?: string[];
}

/** One `event: log` of the log stream. */
export interface LogChunk {
  attempt: number;
  seq: number;
  data: string;
}
