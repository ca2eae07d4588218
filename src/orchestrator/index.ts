// Public face of the orchestrator's core: runs (trigger, webhook/poll events, cancel, rerun), the
// run drivers, the dispatcher, the agent hub, the log hub and the background loops, composed
// over one PostgreSQL pool. The HTTP layer (src/server) talks to it through the interfaces in
// types.ts. start() and stop() are idempotent; stop() leaves nothing running.
import type pg from "pg";
import type { Logger } from "pino";
import type { Histogram } from "prom-client";
import { forgeTokenOf, type Kms } from "../secrets/index.js";
import { createForgeStatusSender } from "../forge-status/index.js";
import { cancelRunJobs } from "../queue/index.js";
import { AirlockError, ErrorCode } from "../errors/index.js";
import type { CoreConfig } from "./config.js";
import { WsAgentHub } from "./agent-hub.js";
import { Dispatcher, type RuntimeTokenMinter } from "./dispatcher.js";
import { RunDrivers } from "./driver.js";
import { MemoryLogHub } from "./log-hub.js";
import { Loop, leaseLoop, pollLoop, scheduleLoop, workflowRunLoop } from "./loops.js";
import { CronScheduler } from "./schedule.js";
import { WorkflowRunEvents } from "./workflow-run.js";
import { createJobSignals } from "./queue-executor.js";
import type { GroupEffects } from "./concurrency/index.js";
import { createRunsService, type SourceAuth } from "./runs.js";
import type { RunsService } from "./types.js";
import { makeLinks } from "./views/index.js";
import { NO_REPLICA_PREFIXES } from "../scheduler/index.js";

export type { CoreConfig } from "./config.js";
export type { SourceAuth } from "./runs.js";
export type * from "./types.js";
export { WsAgentHub } from "./agent-hub.js";
export { MemoryLogHub } from "./log-hub.js";

export interface Orchestrator {
  runs: RunsService;
  logs: MemoryLogHub;
  agents: WsAgentHub;
  /** Starts the loops and drives every unfinished run (recovery after a restart). */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Cancels one job: queued ones complete at once, assigned/running ones are stopped on their node. */
  cancelJob(jobId: number): Promise<void>;
  /**
   * Sends the commit statuses that are due now (one pass, serialised with the background loop);
   * resolves to how many were attempted. The loop calls it every forgeStatusIntervalMs.
   */
  sendForgeStatuses(): Promise<number>;
}

export function createOrchestrator(d: {
  pool: pg.Pool;
  config: CoreConfig;
  logger: Logger;
  /** The KMS of the secrets' key hierarchy: run keys, sealed job secrets, the masking pass. */
  kms: Kms;
  dispatchLatency?: Histogram;
  /** Opens a repository's sealed clone credential for a mirror fetch; absent: fetch without. */
  sourceAuth?: SourceAuth;
  /** The time cron slots are compared with (default: the system clock). */
  clock?: () => Date;
  /**
   * Mints a job attempt's ACTIONS_RUNTIME_TOKEN inside the dispatch transaction (src/artifacts);
   * absent: jobs get no artifact or cache services.
   */
  runtimeToken?: RuntimeTokenMinter;
  /** After an agent completed a job (AgentHubDeps.jobCompleted): e.g. independent rebuilds. */
  jobCompleted?: (jobId: number) => Promise<boolean>;
  /**
   * Periodic work of other domains that the orchestrator runs beside its own loops, started and
   * stopped with them (e.g. the artifact retention sweep, src/artifacts/retention.ts).
   */
  background?: Array<{ name: string; everyMs: number; tick: () => Promise<unknown> }>;
}): Orchestrator {
  const { pool, config, logger } = d;
  const signals = createJobSignals();
  const logs = new MemoryLogHub(async (jobId) => {
    const { rows } = await pool.query<{ state: string }>(`SELECT state FROM jobs WHERE id = $1`, [jobId]);
    const s = rows[0]?.state;
    return s === undefined || s === "completed" || s === "lost";
  });
  const wake = (): void => dispatcher.wake();
  const ended = (ids: number[]): void => {
    for (const id of ids) {
      signals.done(id);
      logs.jobDone(id);
    }
  };
  const agents = new WsAgentHub({
    pool,
    kms: d.kms,
    config,
    logger,
    logs,
    signals,
    wakeDispatcher: wake,
    ...(d.dispatchLatency ? { dispatchLatency: d.dispatchLatency } : {}),
    ...(d.jobCompleted ? { jobCompleted: d.jobCompleted } : {}),
  });
  const dispatcher = new Dispatcher({
    pool,
    config,
    logger,
    hub: agents,
    ...(d.runtimeToken ? { runtimeToken: d.runtimeToken } : {}),
  });

  /** `reason`: recorded as the job's error (a concurrency group that replaced it says which run did). */
  const cancelJob = async (jobId: number, reason?: string): Promise<void> => {
    const q = await pool.query<{ id: string }>(
      `UPDATE jobs SET state = 'completed', conclusion = 'cancelled', finished_at = now(), wait_reason = NULL,
              error = coalesce($2, error)
        WHERE id = $1 AND state = 'queued' RETURNING id`,
      [jobId, reason ?? null],
    );
    if (q.rows.length > 0) return ended([jobId]);
    // Marked, so that a rejection or a lease expiry after this cancel completes the job instead
    // of queueing it again, and an `accepted` that crosses this cancel is answered with a cancel.
    const { rows } = await pool.query<{ node_id: string | null; attempt: number }>(
      `UPDATE jobs SET cancel_requested = true, error = coalesce($2, error)
        WHERE id = $1 AND state IN ('assigned', 'running')
       RETURNING node_id, attempt`,
      [jobId, reason ?? null],
    );
    const r = rows[0];
    if (!r || r.node_id === null) return;
    if (!agents.cancel(Number(r.node_id), jobId, r.attempt)) {
      // The node is gone: nobody will report this attempt; end it here (the agent abandons it on return).
      const done = await pool.query(
        `UPDATE jobs SET state = 'completed', conclusion = 'cancelled', finished_at = now(), lease_expires_at = NULL,
                error = coalesce($3, 'cancelled while its node was disconnected')
          WHERE id = $1 AND attempt = $2 AND state IN ('assigned', 'running') RETURNING id`,
        [jobId, r.attempt, reason ?? null],
      );
      if (done.rows.length > 0) ended([jobId]);
    }
  };

  const cancelJobsOfRun = async (runId: number): Promise<void> => {
    const r = await cancelRunJobs(pool, runId);
    ended(r.cancelledQueued);
    for (const s of r.toStop) await cancelJob(s.jobId);
  };

  /** Ends a run another one replaced in a concurrency group (the `runs cancel` path, with a reason). */
  const cancelRunFor = async (runId: number, reason: string): Promise<void> => {
    await pool.query(`UPDATE runs SET error = coalesce(error, $2), cancel_requested = true WHERE id = $1`, [
      runId,
      reason,
    ]);
    await cancelJobsOfRun(runId);
    drivers.abort(runId);
  };
  const groups: GroupEffects = {
    async cancel(members) {
      for (const m of members)
        if (m.jobId === null) await cancelRunFor(m.runId, m.reason);
        else await cancelJob(m.jobId, m.reason);
    },
    promoted(members) {
      for (const m of members)
        if (m.jobId === null) drivers.wakeRun(m.runId);
        else dispatcher.wake();
    },
  };

  const drivers = new RunDrivers({
    groups,
    pool,
    kms: d.kms,
    config,
    logger,
    signals,
    wakeDispatcher: () => dispatcher.wake(),
    cancelJob,
    cancelRunJobs: cancelJobsOfRun,
    ...(d.sourceAuth ? { sourceAuth: d.sourceAuth } : {}),
  });

  const runs = createRunsService({
    pool,
    config,
    ...(d.sourceAuth ? { sourceAuth: d.sourceAuth } : {}),
    drive: (runId, workflow) => drivers.drive(runId, workflow),
    driveStored: (runId) => drivers.drive(runId),
    cancel: async (runId) => {
      const found = await pool.query<{ state: string; conclusion: string | null }>(
        `SELECT state, conclusion FROM runs WHERE id = $1`,
        [runId],
      );
      const run = found.rows[0];
      if (!run) throw new AirlockError(ErrorCode.NOT_FOUND, `no run ${runId}`);
      // Saying "cancel requested" for a run that already ended would be a lie: nothing will stop.
      if (run.state === "completed") {
        // A run finishes with its own jobs; its independent rebuilds run after it (docs/integrity.md,
        // Corroboration). One that no node may take (too few operators) keeps the artifacts
        // waiting: cancelling the finished run cancels those rebuilds, and their verdict follows.
        // Only those: a rebuild under way, or one merely waiting for room, is the repository
        // policy's check, which cancelling must not skip (it could be about to find a mismatch).
        const rebuilds = await pool.query<{ id: string }>(
          `SELECT id FROM jobs WHERE run_id = $1 AND replica_of IS NOT NULL AND state = 'queued'
              AND (wait_reason LIKE $2 OR wait_reason LIKE $3) ORDER BY id`,
          [runId, `${NO_REPLICA_PREFIXES[0]}%`, `${NO_REPLICA_PREFIXES[1]}%`],
        );
        for (const r of rebuilds.rows)
          await cancelJob(Number(r.id), "rebuild cancelled after its run had finished");
        if (rebuilds.rows.length > 0) return;
        throw new AirlockError(
          ErrorCode.CONFLICT,
          `run ${runId} has already finished (${run.conclusion ?? "no conclusion"}): nothing to cancel`,
        );
      }
      // A run still waiting for a maintainer has no driver and no job: it just ends.
      await pool.query(
        `UPDATE runs SET state = 'completed', conclusion = 'cancelled', cancel_requested = true,
                error = coalesce(error, 'cancelled while waiting for approval'), finished_at = now()
          WHERE id = $1 AND approval = 'required' AND state <> 'completed'`,
        [runId],
      );
      await cancelJobsOfRun(runId);
      drivers.abort(runId);
    },
    gatesChanged: (ended) => {
      ended.forEach((id) => logs.jobDone(id));
      ended.forEach((id) => signals.done(id));
      dispatcher.wake();
    },
    cancelJobs: async (jobIds) => {
      for (const id of jobIds) await cancelJob(id);
    },
    placementChanged: () => dispatcher.wake(),
  });

  // Commit statuses: queued by the trigger on runs (migration 027), sent here with the
  // repository's forge token, opened for each request and never kept.
  const forgeStatuses = createForgeStatusSender({
    pool,
    logger,
    runUrl: (runId) => makeLinks(config.publicUrl).run(runId),
    token: (repositoryId) => forgeTokenOf(pool, d.kms, repositoryId),
    options: {
      retryMs: config.forgeStatusRetryMs ?? 10_000,
      maxAttempts: config.forgeStatusAttempts ?? 8,
    },
  });
  const forgeEvery = config.forgeStatusIntervalMs ?? 2000;

  const triggerDeps = { pool, config, logger, runs, ...(d.sourceAuth ? { sourceAuth: d.sourceAuth } : {}) };
  const loops: Loop[] = [
    leaseLoop(d, { requeued: () => dispatcher.wake(), ended }),
    pollLoop({ ...d, runs }),
    scheduleLoop(d, new CronScheduler(triggerDeps), d.clock ?? (() => new Date())),
    workflowRunLoop(d, new WorkflowRunEvents(triggerDeps)),
    ...(forgeEvery > 0
      ? [new Loop(forgeEvery, async () => void (await forgeStatuses.sendDue()), logger, "forge-statuses")]
      : []),
    ...(d.background ?? [])
      .filter((b) => b.everyMs > 0)
      .map((b) => new Loop(b.everyMs, async () => void (await b.tick()), logger, b.name)),
  ];
  let started = false;

  return {
    runs,
    logs,
    agents,
    cancelJob,
    sendForgeStatuses: () => forgeStatuses.sendDue(),
    async start() {
      if (started) return;
      started = true;
      dispatcher.start();
      for (const l of loops) l.start();
      const n = await drivers.recover();
      if (n > 0) logger.info({ runs: n }, "resumed unfinished runs");
    },
    async stop() {
      if (!started) return;
      started = false;
      // A forge that hangs must not hold the shutdown: its request is aborted, its row retried later.
      forgeStatuses.close();
      await Promise.all(loops.map((l) => l.stop()));
      await dispatcher.stop();
      await drivers.stop();
      agents.closeAll();
      logs.close();
    },
  };
}
