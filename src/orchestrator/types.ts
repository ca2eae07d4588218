// What the HTTP layer (src/server) asks of the orchestrator's core. The core implements it in
// src/orchestrator/*; the server only calls these interfaces and the catalog/view queries.
import type { WebSocket } from "ws";
import type { ChunkStyle } from "../runner/format.js";
import type { LogSource } from "../runner/types.js";
import type { SourceEvent } from "../sources/index.js";

export interface TriggerRequest {
  /** Branch or tag (short or full ref); default: the repository's default branch. */
  ref?: string;
  /** Exact commit; default: the head of `ref` after a fetch. */
  commit?: string;
  /** Event name; default "push". "workflow_dispatch" takes `inputs`. */
  event?: string;
  inputs?: Record<string, string>;
  actor?: string;
  /**
   * The Airlock user who asked (for a service token: the user who made it). Recorded on the run
   * (runs.triggered_by_user_id): that user can never review its deployments.
   */
  triggeredByUserId?: number | null;
}

/** repository_dispatch from the API (GitHub's POST /repos/{owner}/{repo}/dispatches). */
export interface DispatchRequest {
  /** `github.event.action`, matched against the workflow's `types:`. */
  eventType: string;
  /** `github.event.client_payload`. */
  clientPayload?: Record<string, unknown>;
  actor?: string;
  triggeredByUserId?: number | null;
}

export interface RunSummary {
  id: number;
  repositoryId: number;
  number: number;
  event: string;
  ref: string;
  commit: string;
  state: "queued" | "running" | "completed";
  conclusion: "success" | "failure" | "cancelled" | null;
  /** The current attempt (github.run_attempt): 1, one more per re-run. */
  attempt: number;
  /** Link to the run (built from the configured public address). */
  url: string;
}

export interface RerunOptions {
  /** Only the failed and cancelled jobs and the jobs that need them (GitHub's "Re-run failed jobs"). */
  failedOnly?: boolean;
  /** Only this job (its workflow job id) and the jobs that need it (GitHub's "Re-run this job"). */
  job?: string;
  /** Who asked, by name (github.triggering_actor); default the run's actor. */
  actor?: string;
  /** The user who asked, recorded as the one who triggered the attempt. */
  byUserId?: number | null;
}

export interface RunsService {
  /** Manual trigger (API/CLI). Throws AirlockError: NOT_FOUND (repository), WORKFLOW_INVALID, USAGE. */
  trigger(repositoryId: number, req: TriggerRequest): Promise<RunSummary[]>;
  /** A verified, de-duplicated webhook delivery or a poll result for a repository. */
  handleSourceEvent(
    repositoryId: number,
    event: SourceEvent,
    trigger: "webhook" | "poll",
  ): Promise<RunSummary[]>;
  /**
   * repository_dispatch: runs the workflows of the default branch's latest commit whose `types:`
   * take `eventType` (none may). Throws NOT_FOUND (repository or default branch).
   */
  dispatch(repositoryId: number, req: DispatchRequest): Promise<RunSummary[]>;
  /** Cancels every job of the run; their machines are stopped within a second. Idempotent. */
  cancel(runId: number): Promise<void>;
  /**
   * A new attempt of a finished run (same run, commit, event, inputs and actor, as on GitHub):
   * every job again, or only the failed ones. CONFLICT when the run has not finished or, for
   * failed jobs only, when none failed; NOT_FOUND; WORKFLOW_INVALID.
   */
  rerun(runId: number, req?: RerunOptions): Promise<RunSummary>;
  /**
   * Deployment reviews changed the gates of jobs (src/environments): wake the dispatcher for the
   * released ones and tell the run drivers that `ended` jobs (rejected) are completed.
   */
  gatesChanged(ended: number[]): void;
  /**
   * A maintainer approves an untrusted run waiting for approval: its commit is approved and every
   * run waiting at it starts. Returns their ids. CONFLICT when the run does not wait.
   */
  approve(runId: number, by: string): Promise<number[]>;
  /** A maintainer rejects an untrusted run waiting for approval: it ends, cancelled. */
  reject(runId: number, by: string): Promise<void>;
  /** Cancels these jobs (a revoked pool authorization with cancelRunning); idempotent. */
  cancelJobs(jobIds: readonly number[]): Promise<void>;
  /** Pools, authorizations or node labels changed: place the queue again now. */
  placementChanged(): void;
}

export interface LogChunk {
  jobId: number;
  attempt: number;
  seq: number;
  /** One or more log lines, each ending in "\n". */
  data: string;
  /** Who wrote it: Airlock ("system") or the job ("step"); see LogSource. */
  source: LogSource;
  /** When its lines were written (ISO 8601 UTC): on the node as its agent says, at the latest when stored. */
  time?: string;
  /**
   * The style of its lines (src/runner/format.ts ChunkStyle; "group-end": the empty chunk ending a
   * group); null for none (a truncation marker, a chunk stored before migration 028).
   */
  style?: ChunkStyle | null;
}

export interface LogHub {
  /** Live log chunks of a job as they are stored; returns an unsubscribe function. */
  subscribe(jobId: number, listener: (chunk: LogChunk) => void): () => void;
  /** Resolves when the job is completed (or immediately when it already is), or when `signal` aborts. */
  whenJobDone(jobId: number, signal?: AbortSignal): Promise<void>;
}

export interface AgentHub {
  /** Takes over an authenticated agent WebSocket of node `nodeId`. */
  accept(socket: WebSocket, nodeId: number): void;
  connectedNodes(): number;
  /** The node's agent said it is stopping gracefully: connected, finishing its jobs, taking no new ones. */
  isDraining(nodeId: number): boolean;
  /** Closes the node's connection at once, if any (the node was deleted or revoked); `reason` goes in the close frame. */
  disconnect(nodeId: number, reason?: string): void;
}
