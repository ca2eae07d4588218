// The forge status outbox's operations (table forge_statuses, migration 027; rows are queued by
// the trigger on runs). Order per (repository, commit, context): only the newest outstanding row
// of a key is ever claimed, and only while no older row of that key is in flight; older unsent
// rows are dropped as superseded. So a `pending` queued before a `success` can never be sent
// after it, whatever retries and several orchestrators do. Claims use FOR UPDATE SKIP LOCKED.
import type pg from "pg";
import type { RunPhase } from "./forges.js";

type Queryable = Pick<pg.Pool, "query">;

export interface ClaimedStatus {
  id: number;
  runId: number;
  repositoryId: number;
  commit: string;
  context: string;
  phase: RunPhase;
  attempts: number;
}

/** Marks rows that a newer row of their key replaces (never sent: the newer one says more). */
export async function supersedeOlder(db: Queryable): Promise<number> {
  const r = await db.query(
    `UPDATE forge_statuses o SET delivery = 'superseded', updated_at = now()
      WHERE (o.delivery = 'pending' OR (o.delivery = 'sending' AND o.lease_expires_at < now()))
        AND EXISTS (SELECT 1 FROM forge_statuses n
                     WHERE n.repository_id = o.repository_id AND n.commit = o.commit
                       AND n.context = o.context AND n.id > o.id)`,
  );
  return r.rowCount ?? 0;
}

/**
 * Claims up to `limit` due rows (each the newest row of its key, none older in flight),
 * leasing them for `leaseMs` and counting the attempt. A lease that ran out (a sender that died
 * mid-send) makes its row claimable again.
 */
export async function claimDue(db: Queryable, limit: number, leaseMs: number): Promise<ClaimedStatus[]> {
  const { rows } = await db.query<{
    id: string;
    run_id: string;
    repository_id: string;
    commit: string;
    context: string;
    phase: RunPhase;
    attempts: number;
  }>(
    `UPDATE forge_statuses f
        SET delivery = 'sending', attempts = f.attempts + 1,
            lease_expires_at = now() + make_interval(secs => $2::float8 / 1000), updated_at = now()
      WHERE f.id IN (
        SELECT c.id FROM forge_statuses c
         WHERE (c.delivery = 'pending' OR (c.delivery = 'sending' AND c.lease_expires_at < now()))
           AND c.next_attempt_at <= now()
           AND NOT EXISTS (SELECT 1 FROM forge_statuses n
                            WHERE n.repository_id = c.repository_id AND n.commit = c.commit
                              AND n.context = c.context AND n.id > c.id)
           AND NOT EXISTS (SELECT 1 FROM forge_statuses s
                            WHERE s.repository_id = c.repository_id AND s.commit = c.commit
                              AND s.context = c.context AND s.id < c.id
                              AND s.delivery = 'sending' AND s.lease_expires_at >= now())
         ORDER BY c.id
         LIMIT $1
         FOR UPDATE SKIP LOCKED)
      RETURNING f.id, f.run_id, f.repository_id, f.commit, f.context, f.phase, f.attempts`,
    [limit, leaseMs],
  );
  return rows
    .map((r) => ({
      id: Number(r.id),
      runId: Number(r.run_id),
      repositoryId: Number(r.repository_id),
      commit: r.commit,
      context: r.context,
      phase: r.phase,
      attempts: r.attempts,
    }))
    .sort((a, b) => a.id - b.id);
}

/** The forge took it. */
export async function markSent(db: Queryable, id: number): Promise<void> {
  await db.query(
    `UPDATE forge_statuses SET delivery = 'sent', lease_expires_at = NULL, last_error = NULL, updated_at = now()
      WHERE id = $1 AND delivery = 'sending'`,
    [id],
  );
}

/** Failed this time: again after `delayMs`, or never again (`giveUp`), keeping why. */
export async function markFailed(
  db: Queryable,
  id: number,
  error: string,
  retry: { giveUp: boolean; delayMs: number },
): Promise<void> {
  await db.query(
    `UPDATE forge_statuses
        SET delivery = CASE WHEN $3 THEN 'failed' ELSE 'pending' END,
            next_attempt_at = now() + make_interval(secs => $4::float8 / 1000),
            lease_expires_at = NULL, last_error = $2, updated_at = now()
      WHERE id = $1 AND delivery = 'sending'`,
    [id, error, retry.giveUp, retry.delayMs],
  );
}

export interface RunForgeStatus {
  context: string;
  phase: RunPhase;
  delivery: "pending" | "sending" | "sent" | "superseded" | "failed";
  attempts: number;
  lastError: string | null;
  updatedAt: string;
}

/** The newest status of a run (what the forge shows, or is about to), undefined when none. */
export async function latestOfRun(db: Queryable, runId: number): Promise<RunForgeStatus | undefined> {
  const { rows } = await db.query<{
    context: string;
    phase: RunPhase;
    delivery: RunForgeStatus["delivery"];
    attempts: number;
    last_error: string | null;
    updated_at: Date;
  }>(
    `SELECT context, phase, delivery, attempts, last_error, updated_at
       FROM forge_statuses WHERE run_id = $1 ORDER BY id DESC LIMIT 1`,
    [runId],
  );
  const r = rows[0];
  if (!r) return undefined;
  return {
    context: r.context,
    phase: r.phase,
    delivery: r.delivery,
    attempts: r.attempts,
    lastError: r.last_error,
    updatedAt: r.updated_at.toISOString(),
  };
}
