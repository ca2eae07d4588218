// A maintainer's decision on an untrusted run that waits (src/orchestrator/trust.ts). Approval is
// bound to the commit: approving one run approves its repository's commit (recorded in
// untrusted_approvals with whose code it is), so every run waiting at that commit (the other
// workflows of the same push) starts, and later runs at that commit need no approval; a new push
// needs a new one. Rejection ends the run (cancelled, naming who rejected it). Both are refused
// with CONFLICT for a run that does not wait.
import type pg from "pg";
import { AirlockError, ErrorCode } from "../errors/index.js";
import { inTransaction } from "./catalog/index.js";

async function waiting(
  c: pg.PoolClient,
  runId: number,
): Promise<{ repository_id: string; commit: string; actor: string }> {
  const { rows } = await c.query<{
    repository_id: string;
    commit: string;
    actor: string;
    approval: string | null;
    state: string;
  }>(`SELECT repository_id, commit, actor, approval, state FROM runs WHERE id = $1 FOR UPDATE`, [runId]);
  const r = rows[0];
  if (!r) throw new AirlockError(ErrorCode.NOT_FOUND, `no run ${runId}`);
  if (r.state === "completed") throw new AirlockError(ErrorCode.CONFLICT, `run ${runId} has ended`);
  if (r.approval !== "required")
    throw new AirlockError(
      ErrorCode.CONFLICT,
      `run ${runId} does not wait for approval${r.approval ? ` (it was ${r.approval})` : ""}`,
    );
  return r;
}

/** Approves the run's commit; returns the runs that now start (this one and its siblings). */
export async function approveUntrusted(pool: pg.Pool, runId: number, by: string): Promise<number[]> {
  return inTransaction(pool, async (c) => {
    const r = await waiting(c, runId);
    await c.query(
      `INSERT INTO untrusted_approvals (repository_id, commit, author, approved_by) VALUES ($1, $2, $3, $4)
       ON CONFLICT (repository_id, commit) DO NOTHING`,
      [r.repository_id, r.commit, r.actor, by],
    );
    const { rows } = await c.query<{ id: string }>(
      `UPDATE runs SET approval = 'approved', approved_by = $3, approved_at = now()
        WHERE repository_id = $1 AND commit = $2 AND approval = 'required' AND state <> 'completed'
        RETURNING id`,
      [r.repository_id, r.commit, by],
    );
    return rows.map((x) => Number(x.id)).sort((a, b) => a - b);
  });
}

/** Rejects the run: it ends as cancelled, and says who rejected it. */
export async function rejectUntrusted(pool: pg.Pool, runId: number, by: string): Promise<void> {
  await inTransaction(pool, async (c) => {
    await waiting(c, runId);
    await c.query(
      `UPDATE runs SET approval = 'rejected', approved_by = $2, approved_at = now(), state = 'completed',
              conclusion = 'cancelled', error = $3, started_at = coalesce(started_at, now()), finished_at = now()
        WHERE id = $1`,
      [runId, by, `rejected by ${by}: untrusted code is not run`],
    );
  });
}
