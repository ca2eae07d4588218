// The gate of a queued job that deploys to an environment. The queue executor inserts such a job
// with `gate = 'environment'` (claimQueuedJobs skips it); gateJob then applies the environment's
// rules, in this order, as GitHub does: the ref must be allowed (else the job fails at once),
// reviewers must approve (the job waits, its wait_reason naming who may approve; a rejection fails
// it), and the wait timer must run out (counted from the approval, or from queueing without
// reviewers: the gate opens with `eligible_at` in the future and the claim waits for it).
// Idempotent: evaluated again after a restart or a review, it moves the job on from where it is.
import type pg from "pg";
import { isAirlockError } from "../errors/index.js";
import { ensureEnvironment } from "./store.js";
import { needsReview, refAllowed, refRefusal, waitingForApproval, waitingForTimer } from "./rules.js";

export type GateOutcome =
  /** Not gated (any more), or not queued: nothing to do. */
  | { kind: "none" }
  /** Dispatchable, at once or from `eligibleAt` (a wait timer). */
  | { kind: "released"; eligibleAt: Date | null }
  | { kind: "waiting"; reason: string }
  /** Completed as a failure with this error. */
  | { kind: "failed"; error: string };

interface JobRow {
  state: string;
  gate: string | null;
  environment: string | null;
  queued_at: Date;
  ref: string;
  actor: string;
  repository_id: string;
  repository: string;
}

/** Applies the rules to one job. Inside the caller's transaction (the job row is locked). */
export async function gateJob(db: pg.PoolClient, jobId: number, now = new Date()): Promise<GateOutcome> {
  const { rows } = await db.query<JobRow>(
    `SELECT j.state, j.gate, j.environment, j.queued_at, r.ref, r.actor, p.id AS repository_id, p.name AS repository
       FROM jobs j JOIN runs r ON r.id = j.run_id JOIN repositories p ON p.id = r.repository_id
      WHERE j.id = $1 FOR UPDATE OF j`,
    [jobId],
  );
  const job = rows[0];
  if (!job || job.state !== "queued" || job.gate === null) return { kind: "none" };
  const fail = async (error: string): Promise<GateOutcome> => {
    await db.query(
      `UPDATE jobs SET state = 'completed', conclusion = 'failure', error = $2, finished_at = now(),
              gate = NULL, wait_reason = NULL WHERE id = $1 AND state = 'queued'`,
      [jobId, error],
    );
    return { kind: "failed", error };
  };
  let env;
  try {
    env = await ensureEnvironment(db, Number(job.repository_id), job.environment ?? "");
  } catch (err) {
    if (isAirlockError(err)) return fail(err.message); // a name no environment may have
    throw err;
  }
  if (!refAllowed(env, job.ref)) return fail(refRefusal(job.ref, env.name));

  let start = job.queued_at;
  if (!needsReview(env)) {
    // The rules changed while it waited (every reviewer removed): nobody is asked any more.
    await db.query(`DELETE FROM deployments WHERE job_id = $1 AND state = 'waiting'`, [jobId]);
  } else {
    await db.query(
      `INSERT INTO deployments (job_id, run_id, environment_id, environment)
       SELECT id, run_id, $2, $3 FROM jobs WHERE id = $1 ON CONFLICT (job_id) DO NOTHING`,
      [jobId, env.id, env.name],
    );
    const d = (
      await db.query<{
        state: string;
        reviewer_name: string | null;
        comment: string | null;
        reviewed_at: Date | null;
      }>(`SELECT state, reviewer_name, comment, reviewed_at FROM deployments WHERE job_id = $1`, [jobId])
    ).rows[0]!;
    if (d.state === "rejected")
      return fail(
        `The deployment to ${env.name} was rejected by ${d.reviewer_name ?? "a deleted user"}` +
          (d.comment ? `: ${d.comment}` : "."),
      );
    if (d.state === "waiting") {
      const reason = waitingForApproval(env.name, env, job.repository, job.actor);
      await db.query(`UPDATE jobs SET wait_reason = $2 WHERE id = $1`, [jobId, reason]);
      return { kind: "waiting", reason };
    }
    start = d.reviewed_at ?? start;
  }

  const until = env.waitTimerMinutes > 0 ? new Date(start.getTime() + env.waitTimerMinutes * 60_000) : null;
  const reason = until !== null && until > now ? waitingForTimer(env.name, until) : null;
  await db.query(`UPDATE jobs SET gate = NULL, eligible_at = $2, wait_reason = $3 WHERE id = $1`, [
    jobId,
    until,
    reason,
  ]);
  return { kind: "released", eligibleAt: until };
}

/**
 * The rules of an environment changed: applies them again to every job of the repository whose
 * gate is still closed on it (waiting for approval, or not gated yet), so that a job nobody may
 * approve any more is released (or failed) rather than stuck. Inside the caller's transaction
 * (the one that changed the rules); the caller wakes the dispatcher and ends the failed jobs
 * after the commit (RunsService.gatesChanged).
 */
export async function regateEnvironment(
  db: pg.PoolClient,
  repositoryId: number,
  environment: string,
): Promise<Array<{ jobId: number; outcome: GateOutcome }>> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT j.id FROM jobs j JOIN runs r ON r.id = j.run_id
      WHERE r.repository_id = $1 AND j.state = 'queued' AND j.gate = 'environment'
        AND lower(j.environment) = $2
      ORDER BY j.id`,
    [repositoryId, environment],
  );
  const jobIds = rows.map((r) => Number(r.id));
  // Their deployments first, then each job (gateJob): the order a review locks them in.
  await db.query(
    `SELECT job_id FROM deployments WHERE job_id = ANY($1::bigint[]) ORDER BY job_id FOR UPDATE`,
    [jobIds],
  );
  const out = [];
  for (const id of jobIds) out.push({ jobId: id, outcome: await gateJob(db, id) });
  return out;
}

/** gateJob in a transaction of its own. */
export async function evaluateGate(pool: pg.Pool, jobId: number): Promise<GateOutcome> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const out = await gateJob(client, jobId);
    await client.query("COMMIT");
    return out;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
