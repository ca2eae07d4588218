// The queue's shared types: what callers pass in and get back. Ids are numbers (bigserial values
// stay far below 2^53); rows come back from pg as strings for bigint and are converted here.
import type pg from "pg";
import type { JobDescription } from "../runner/types.js";

/** Anything that runs a query: the pool (one statement = one transaction) or a client in a transaction. */
export type Queryable = pg.Pool | pg.PoolClient;

/** A job instance ready to run, as the planner enqueues it. */
export interface NewJob {
  runId: number;
  /** The run attempt the job belongs to (default 1); a re-run's jobs are new rows of a new attempt. */
  runAttempt?: number;
  /**
   * "<workflow file>#<job id>#<matrix index>": unique within the run attempt, makes enqueueing
   * idempotent.
   */
  key: string;
  jobId: string;
  name: string;
  workflow: string;
  matrix: Record<string, unknown> | null;
  labels: string[];
  description: JobDescription;
  continueOnError: boolean;
  maxAttempts: number;
  /** The job's environment: it is queued gated, not dispatched until its rules let it go. */
  environment?: string;
}

/** A job that never ran (skipped by `if`, failed before it could start), stored as completed. */
export interface FinishedJob {
  runId: number;
  /** Default 1. */
  runAttempt?: number;
  key: string;
  jobId: string;
  name: string;
  workflow: string;
  matrix: Record<string, unknown> | null;
  conclusion: "skipped" | "failure" | "cancelled";
  error?: string;
  continueOnError?: boolean;
}

/** A queued job locked by claimQueuedJobs, with what the scheduler needs to place it. */
export interface ClaimedJob {
  id: number;
  runId: number;
  repositoryId: number;
  organizationId: number;
  labels: string[];
  attempt: number;
  /** The run's trust tier: untrusted runs' jobs go to low-trust pools only (docs/security.md). */
  trust: "trusted" | "untrusted";
  /** Its description has `container:` or `services:` (JobToPlace.containers). */
  containers: boolean;
  /** A replica of another job (independent rebuilds): the operators it must avoid. Absent: not one. */
  replica?: { of: number; excludeOperators: string[]; trustedWorker: boolean };
  /** Its run has rebuilds under way: not on a deploy pool's node (JobToPlace.runRebuildsPending). */
  runRebuildsPending?: boolean;
  /** A deployment whose run has rebuilds under way (JobToPlace.awaitingRebuilds). */
  awaitingRebuilds?: boolean;
}

/** A placement decided by the scheduler. */
export interface Assignment {
  jobId: number;
  nodeId: number;
  imageId: number;
  flavourId: number;
}

/** One job attempt, as agents name it. */
export interface JobRef {
  jobId: number;
  attempt: number;
}
