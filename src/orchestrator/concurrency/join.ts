// joinGroup: a run (workflow level) or a job (job level) enters its `concurrency:` group, inside
// the caller's transaction (for a job: the one that inserts it, so no dispatcher can claim it in
// between). The group's row is locked FOR UPDATE first: joins and releases of one group never
// interleave, whichever orchestrator makes them; the unique partial indexes of migration 024 hold
// "one running, one pending" even against a bug here. Idempotent: a member that already joined
// (a replay after a restart) gets its state back and cancels nobody.
import type { Queryable } from "../../queue/index.js";
import { concurrencyGroup, type GroupHolder } from "../../scheduler/index.js";

export type MemberState = "pending" | "running" | "superseded";

export interface GroupMember {
  runId: number;
  /** Null for a run's workflow-level membership. */
  jobId: number | null;
}

export interface JoinRequest extends GroupMember {
  repositoryId: number;
  group: string;
  cancelInProgress: boolean;
}

export interface ToCancel extends GroupMember {
  /** One line naming the group and the run that superseded the member. */
  reason: string;
}

export interface Joined {
  state: MemberState | "deadlock";
  /** Why the member waits (state "pending"). */
  waitReason?: string;
  /** Members this join replaced (pending) or cancels in progress (cancel-in-progress). */
  cancel: ToCancel[];
}

interface Row {
  run_id: string;
  job_id: string | null;
  state: MemberState;
  name: string;
  job_name: string | null;
}

export async function lockGroup(db: Queryable, repositoryId: number, key: string): Promise<void> {
  await db.query(
    `INSERT INTO concurrency_groups (repository_id, key) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
    [repositoryId, key],
  );
  await db.query(`SELECT 1 FROM concurrency_groups WHERE repository_id = $1 AND key = $2 FOR UPDATE`, [
    repositoryId,
    key,
  ]);
}

export function holderOf(r: { run_id: string; job_id: string | null; job_name: string | null }): GroupHolder {
  return { runId: Number(r.run_id), ...(r.job_id === null ? {} : { job: r.job_name ?? r.job_id }) };
}

export async function joinGroup(db: Queryable, req: JoinRequest): Promise<Joined> {
  const key = req.group.toLowerCase();
  await lockGroup(db, req.repositoryId, key);
  const mine = await db.query<{ state: MemberState }>(
    `SELECT state FROM concurrency_members
      WHERE run_id = $1 AND job_id IS NOT DISTINCT FROM $2::bigint`,
    [req.runId, req.jobId],
  );
  const members = await db.query<Row>(
    `SELECT m.run_id, m.job_id, m.state, m.name, j.name AS job_name
       FROM concurrency_members m LEFT JOIN jobs j ON j.id = m.job_id
      WHERE m.repository_id = $1 AND m.key = $2 AND m.state IN ('pending', 'running')`,
    [req.repositoryId, key],
  );
  const running = members.rows.find((m) => m.state === "running");
  const pending = members.rows.find((m) => m.state === "pending");
  const wait = (): string => concurrencyGroup(req.group, running && holderOf(running)).reason;
  const existing = mine.rows[0];
  if (existing) {
    return {
      state: existing.state,
      ...(existing.state === "pending" ? { waitReason: wait() } : {}),
      cancel: [],
    };
  }
  // A job in the group its own run holds at workflow level would wait for itself forever: GitHub
  // cancels it ("deadlock detected"); so do we.
  if (req.jobId !== null && running && Number(running.run_id) === req.runId && running.job_id === null)
    return { state: "deadlock", cancel: [] };
  const cancel: ToCancel[] = [];
  if (pending) {
    await db.query(
      `UPDATE concurrency_members SET state = 'superseded'
        WHERE repository_id = $1 AND key = $2 AND state = 'pending'`,
      [req.repositoryId, key],
    );
    cancel.push({
      runId: Number(pending.run_id),
      jobId: pending.job_id === null ? null : Number(pending.job_id),
      reason: `superseded in concurrency group '${req.group}' by run ${req.runId}`,
    });
  }
  if (running && req.cancelInProgress) {
    cancel.push({
      runId: Number(running.run_id),
      jobId: running.job_id === null ? null : Number(running.job_id),
      reason: `cancelled in progress by run ${req.runId} (concurrency group '${req.group}', cancel-in-progress)`,
    });
  }
  const state: MemberState = running ? "pending" : "running";
  await db.query(
    `INSERT INTO concurrency_members (repository_id, key, name, run_id, job_id, state, cancel_in_progress)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [req.repositoryId, key, req.group, req.runId, req.jobId, state, req.cancelInProgress],
  );
  return { state, ...(state === "pending" ? { waitReason: wait() } : {}), cancel };
}
