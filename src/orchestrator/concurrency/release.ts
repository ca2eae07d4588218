// releaseMembers: a run or job that ended leaves its groups; where it was the running member, the
// pending one (if any) becomes running: a job becomes claimable (the claim skips jobs whose
// membership is not 'running'), a run may start. Each group is locked FOR UPDATE as in joinGroup.
// Idempotent: a member already gone releases nothing, so every path that ends a run or a job may
// call it (the job's executor, the run's end, a replay after a restart).
import type pg from "pg";
import { lockGroup, type GroupMember } from "./join.js";

/** The members of `runId` (all of them, or only the job `jobId`'s). */
export type Leaving = { runId: number; jobId?: number };

export async function releaseMembers(pool: pg.Pool, leaving: Leaving): Promise<GroupMember[]> {
  const found = await pool.query<{ id: string; repository_id: string; key: string }>(
    `SELECT id, repository_id, key FROM concurrency_members
      WHERE run_id = $1 AND ($2::bigint IS NULL OR job_id = $2)`,
    [leaving.runId, leaving.jobId ?? null],
  );
  const promoted: GroupMember[] = [];
  for (const m of found.rows) {
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      await lockGroup(client, Number(m.repository_id), m.key);
      // Read again under the lock: the member may have been promoted since.
      const gone = await client.query<{ state: string }>(
        `DELETE FROM concurrency_members WHERE id = $1 RETURNING state`,
        [m.id],
      );
      if (gone.rows[0]?.state === "running") {
        const next = await client.query<{ run_id: string; job_id: string | null }>(
          `UPDATE concurrency_members SET state = 'running'
            WHERE repository_id = $1 AND key = $2 AND state = 'pending'
            RETURNING run_id, job_id`,
          [m.repository_id, m.key],
        );
        for (const n of next.rows) {
          const member = { runId: Number(n.run_id), jobId: n.job_id === null ? null : Number(n.job_id) };
          if (member.jobId === null)
            await client.query(`UPDATE runs SET wait_reason = NULL WHERE id = $1`, [member.runId]);
          else
            // A job still held by its environment keeps that reason.
            await client.query(
              `UPDATE jobs SET wait_reason = NULL WHERE id = $1 AND state = 'queued' AND gate IS NULL`,
              [member.jobId],
            );
          promoted.push(member);
        }
      }
      await client.query("COMMIT");
    } catch (err) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }
  return promoted;
}

/** A member's state now (undefined: not, or no longer, in a group). */
export async function memberState(
  db: pg.Pool | pg.PoolClient,
  member: GroupMember,
): Promise<"pending" | "running" | "superseded" | undefined> {
  const { rows } = await db.query<{ state: "pending" | "running" | "superseded" }>(
    `SELECT state FROM concurrency_members WHERE run_id = $1 AND job_id IS NOT DISTINCT FROM $2::bigint`,
    [member.runId, member.jobId],
  );
  return rows[0]?.state;
}
