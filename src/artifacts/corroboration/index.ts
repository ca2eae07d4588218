// Independent rebuilds (issue 13, item 6; docs/integrity.md "Corroboration"): after a job that
// uploaded artifacts succeeds, its replicas are queued (replicas.ts); after each replica, the
// builds are compared and the verdicts recorded (evaluate.ts, report.ts). One entry point, called
// by the orchestrator whenever a job completes; one job's builds are judged one at a time (an
// advisory lock on the job), so two replicas finishing together cannot both report the mismatch.
import { inTransaction } from "../db.js";
import { corroborate, type CorroborationDeps, type Outcome } from "./evaluate.js";
import { queueReplicas } from "./replicas.js";
import { fillReport } from "./report.js";

export {
  buildsOf,
  corroborate,
  judge,
  type Build,
  type CorroborationDeps,
  type Outcome,
} from "./evaluate.js";
export { corroborates, markAwaitingRebuilds, queueReplicas, replicasFor } from "./replicas.js";
export { boundedDiff, runMismatches, type MismatchReport } from "./report.js";

/** Advisory lock class of a job's corroboration (the second key is the job id). */
const LOCK = 0x636f72;

export interface JobCompletion {
  /** Replicas queued for this job (it is not a replica): done before anything else learns it ended. */
  replicas: number[];
  /**
   * The verdicts after this replica (it is one): comparing may read two archives, so the caller
   * need not wait for it.
   */
  verdict?: Promise<Outcome>;
}

/**
 * After a job completed: queue its replicas if it needs them (awaited, so that a deployment that
 * needs the job is queued after them and waits for their verdict), or judge the replica's build.
 */
export async function onJobCompleted(d: CorroborationDeps, jobId: number): Promise<JobCompletion> {
  const { rows } = await d.db.query<{ replica_of: string | null }>(
    `SELECT replica_of FROM jobs WHERE id = $1`,
    [jobId],
  );
  const row = rows[0];
  if (!row) return { replicas: [] };
  if (row.replica_of === null) return { replicas: await queueReplicas(d.db, jobId) };
  return { replicas: [], verdict: judgeJob(d, Number(row.replica_of)) };
}

/** Judges job `of`'s builds in a short transaction under its lock, then makes new reports' diffs. */
async function judgeJob(d: CorroborationDeps, of: number): Promise<Outcome> {
  const outcome = await inTransaction(d.db, async (c) => {
    await c.query(`SELECT pg_advisory_xact_lock($1, $2::int)`, [LOCK, of % 2 ** 31]);
    return corroborate({ ...d, db: c }, of);
  });
  for (const p of outcome.diffs) await fillReport(d, p);
  return outcome;
}

/**
 * The safety net, run periodically: jobs whose artifacts still wait although nothing of theirs is
 * queued or running any more — a rebuild lost by lease expiry, an orchestrator that stopped
 * between a job's end and its rebuilds — get their rebuilds queued (if still none) or their verdict.
 */
export async function settleRebuilds(d: CorroborationDeps, limit = 20): Promise<number> {
  const { rows } = await d.db.query<{ job_id: string; replicas: number }>(
    `SELECT DISTINCT a.job_id, (SELECT count(*)::int FROM jobs x WHERE x.replica_of = a.job_id) AS replicas
       FROM artifacts a JOIN jobs j ON j.id = a.job_id
      WHERE a.awaiting_rebuilds AND j.state IN ('completed', 'lost')
        AND NOT EXISTS (SELECT 1 FROM jobs x WHERE x.replica_of = a.job_id AND x.state IN ('queued', 'assigned', 'running'))
      LIMIT $1`,
    [limit],
  );
  for (const r of rows) {
    const jobId = Number(r.job_id);
    if (r.replicas === 0) await queueReplicas(d.db, jobId);
    else await judgeJob(d, jobId);
  }
  return rows.length;
}
