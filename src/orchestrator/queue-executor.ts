// The orchestrator's InstanceExecutor: a job instance becomes a row in the queue (idempotent by
// run attempt and key, so replaying a run after a restart finds the jobs it already created) and the
// executor waits until the job is completed — by its agent, by lease expiry (lost) or by a cancel.
import type pg from "pg";
import { enqueueJobs, type NewJob, type Queryable } from "../queue/index.js";
import { joinGroup, releaseMembers, type GroupEffects, type Joined } from "./concurrency/index.js";
import type { InstanceExecutor, InstanceRequest } from "../planner/index.js";
import type { JobDescription, JobResult } from "../runner/types.js";
import { readJobResult, readJobRow } from "./job-result.js";

export interface JobSignals {
  /** Resolves on the next completion signal for the job (may be spurious: re-check the row). */
  next(jobId: number): Promise<void>;
  /** Tells waiters the job may have completed. */
  done(jobId: number): void;
}

export function createJobSignals(): JobSignals {
  const waiters = new Map<number, Set<() => void>>();
  return {
    next(jobId) {
      return new Promise<void>((resolve) => {
        let set = waiters.get(jobId);
        if (!set) waiters.set(jobId, (set = new Set()));
        set.add(resolve);
      });
    },
    done(jobId) {
      const set = waiters.get(jobId);
      waiters.delete(jobId);
      for (const r of set ?? []) r();
    },
  };
}

export interface QueueExecutorDeps {
  db: Queryable;
  runId: number;
  /** The run attempt being driven: its jobs are its own rows (a re-run does not find the last one's). */
  runAttempt: number;
  maxAttempts: number;
  signals: JobSignals;
  /** A job was queued: wake the dispatcher. */
  queued(): void;
  /** Cancel one job (fail-fast, run cancel): queued ones complete at once, running ones are stopped. */
  cancelJob(jobId: number): Promise<void>;
  /** Aborts when the orchestrator shuts down: stop waiting, leave the job as it is. */
  shutdown: AbortSignal;
  /**
   * The description as it is stored and sent to a node (the environment's secrets and variables
   * added, secrets sealed under the run's key); absent: the planner's description as it is.
   */
  prepare?(req: InstanceRequest): Promise<JobDescription>;
  /** Applies the environment's rules to a job queued with one (it is gated until then); idempotent. */
  gate?(jobId: number): Promise<void>;
  /** Job-level `concurrency:` groups of the run's repository (src/orchestrator/concurrency). */
  groups?: { pool: pg.Pool; repositoryId: number; effects: GroupEffects };
}

const TERMINAL = new Set(["completed", "lost"]);

export function createQueueExecutor(d: QueueExecutorDeps): InstanceExecutor {
  return {
    async run(req: InstanceRequest): Promise<JobResult> {
      // After shutdown the planner may still walk the DAG: nothing may reach the database any more.
      if (d.shutdown.aborted) throw d.shutdown.reason;
      const description = d.prepare ? await d.prepare(req) : req.description;
      const job: NewJob = {
        runId: d.runId,
        runAttempt: d.runAttempt,
        key: req.instance.key,
        jobId: req.description.jobId,
        name: req.instance.name,
        workflow: req.instance.workflow,
        matrix: req.instance.matrix,
        labels: req.labels,
        description,
        continueOnError: false,
        maxAttempts: d.maxAttempts,
        ...(description.environment ? { environment: description.environment.name } : {}),
      };
      const grouped = req.concurrency && d.groups ? { c: req.concurrency, g: d.groups } : undefined;
      let row: { id: number; created: boolean } | undefined;
      if (grouped) {
        const joined = await enqueueInGroup(grouped.g.pool, job, d.runId, grouped.g.repositoryId, grouped.c);
        row = joined.row;
        if (joined.joined) await grouped.g.effects.cancel(joined.joined.cancel);
      } else [row] = await enqueueJobs(d.db, [job]);
      if (!row) throw new Error(`job ${req.instance.key} could not be queued`);
      // Also after a restart (the row existed): the gate moves on from where it was.
      if (description.environment && d.gate) await d.gate(row.id);
      if (row.created) d.queued();
      const onAbort = (): void => void d.cancelJob(row.id);
      req.signal.addEventListener("abort", onAbort, { once: true });
      if (req.signal.aborted) onAbort();
      const stopped = aborted(d.shutdown); // one listener per wait, not one per wake-up
      try {
        for (;;) {
          const signal = d.signals.next(row.id); // registered before reading: no lost wake-up
          const current = await readJobRow(d.db, row.id);
          if (!current) throw new Error(`job ${row.id} disappeared`);
          if (TERMINAL.has(current.state)) {
            // Idempotent: a replay after a restart releases what the crash left held.
            if (grouped)
              grouped.g.effects.promoted(
                await releaseMembers(grouped.g.pool, { runId: d.runId, jobId: row.id }),
              );
            return await readJobResult(d.db, current);
          }
          await Promise.race([signal, stopped]);
          if (d.shutdown.aborted) throw d.shutdown.reason;
        }
      } finally {
        req.signal.removeEventListener("abort", onAbort);
      }
    },
  };
}

/**
 * Inserts the job and joins its group in one transaction: no dispatcher can claim it before its
 * membership says whether it may run. A replay (the row existed) joins nothing: its membership is
 * in the database already, or was released when it ended.
 */
async function enqueueInGroup(
  pool: pg.Pool,
  job: NewJob,
  runId: number,
  repositoryId: number,
  c: { group: string; cancelInProgress: boolean },
): Promise<{ row: { id: number; created: boolean } | undefined; joined?: Joined }> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const [row] = await enqueueJobs(client, [job]);
    let joined: Joined | undefined;
    if (row?.created) {
      joined = await joinGroup(client, { repositoryId, runId, jobId: row.id, ...c });
      if (joined.state === "deadlock")
        await client.query(
          `UPDATE jobs SET state = 'completed', conclusion = 'cancelled', finished_at = now(), error = $2
            WHERE id = $1`,
          [
            row.id,
            `cancelled: concurrency group '${c.group}' is held by this job's own run (workflow level): the job would wait for itself`,
          ],
        );
      else if (joined.waitReason !== undefined)
        await client.query(`UPDATE jobs SET wait_reason = $2 WHERE id = $1`, [row.id, joined.waitReason]);
    }
    await client.query("COMMIT");
    return { row, ...(joined ? { joined } : {}) };
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}
