// The settings the orchestrator's core needs (a subset of the server configuration).
export interface CoreConfig {
  /** Public base URL used in every link the orchestrator generates. */
  publicUrl: string;
  /** Where mirrors of repositories and other state live. */
  dataDir: string;
  /** How long a job's lease lasts without a heartbeat from its agent. */
  leaseMs: number;
  /** How often agents heartbeat (must be well under leaseMs). */
  heartbeatMs: number;
  /** Attempts before a job whose agent keeps disappearing is marked lost. */
  maxAttempts: number;
  /** Stored log bytes per job; past it output is dropped with a visible marker. */
  logCapBytes: number;
  /** Jobs claimed per dispatch transaction. */
  dispatchBatch: number;
  /** Base URL of remote actions and reusable workflows (owner/repo@ref). */
  actionsUrl: string;
  /** How often commit statuses are sent to forges (0: only when asked, sendForgeStatuses). Default 2000. */
  forgeStatusIntervalMs?: number;
  /** First retry delay of a commit status the forge did not take; doubled each time. Default 10000. */
  forgeStatusRetryMs?: number;
  /** Attempts before a commit status is given up. Default 8. */
  forgeStatusAttempts?: number;
}
