// Enqueueing: queued jobs from the planner in one multi-row INSERT, and jobs that never run stored
// directly as completed. Both are idempotent by (run_id, run_attempt, key): a planner that restarts or repeats
// itself gets the existing rows back instead of duplicates.
import { run } from "./sql.js";
import type { FinishedJob, NewJob, Queryable } from "./types.js";

// A job with an environment is inserted gated (claimQueuedJobs skips it) until the environment's
// rules let it go (src/environments/gate.ts).
// The input travels as one JSON array (text[] and jsonb per row do not fit unnest's flat arrays).
// The outer join finds rows that existed before this statement; a row another transaction inserted
// after our snapshot is found by the follow-up query below.
const ENQUEUE = `
WITH input AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS t(
    run_id bigint, run_attempt integer, key text, job_id text, name text, workflow text, matrix jsonb, labels text[],
    description jsonb, continue_on_error boolean, max_attempts integer, ord bigint, environment text)
), ins AS (
  INSERT INTO jobs (run_id, run_attempt, key, job_id, name, workflow, matrix, labels, description,
                    continue_on_error, max_attempts, state, queued_at, environment, gate)
  SELECT run_id, run_attempt, key, job_id, name, workflow, matrix, labels, description,
         continue_on_error, max_attempts, 'queued', now(), environment,
         CASE WHEN environment IS NOT NULL THEN 'environment' END
  FROM input ORDER BY ord
  ON CONFLICT (run_id, run_attempt, key) DO NOTHING
  RETURNING id, run_id, run_attempt, key
)
SELECT COALESCE(ins.id, j.id) AS id, i.key, ins.id IS NOT NULL AS created
FROM input i
LEFT JOIN ins ON ins.run_id = i.run_id AND ins.run_attempt = i.run_attempt AND ins.key = i.key
LEFT JOIN jobs j ON j.run_id = i.run_id AND j.run_attempt = i.run_attempt AND j.key = i.key
ORDER BY i.ord`;

const FIND = `SELECT id FROM jobs WHERE run_id = $1 AND key = $2 AND run_attempt = $3`;

export async function enqueueJobs(
  db: Queryable,
  jobs: NewJob[],
): Promise<Array<{ id: number; key: string; created: boolean }>> {
  if (jobs.length === 0) return [];
  const input = jobs.map((j, ord) => ({
    ord,
    run_id: j.runId,
    run_attempt: j.runAttempt ?? 1,
    key: j.key,
    job_id: j.jobId,
    name: j.name,
    workflow: j.workflow,
    matrix: j.matrix,
    labels: j.labels,
    description: j.description,
    continue_on_error: j.continueOnError,
    max_attempts: j.maxAttempts,
    environment: j.environment ?? null,
  }));
  const { rows } = await run<{ id: string | null; key: string; created: boolean }>(db, "enqueue", ENQUEUE, [
    JSON.stringify(input),
  ]);
  const out: Array<{ id: number; key: string; created: boolean }> = [];
  for (const [i, row] of rows.entries()) {
    let id = row.id;
    if (id === null) {
      // Inserted concurrently by another transaction that committed after our snapshot.
      const job = jobs[i]!;
      id =
        (await run<{ id: string }>(db, "enqueue.find", FIND, [job.runId, job.key, job.runAttempt ?? 1]))
          .rows[0]?.id ?? null;
    }
    out.push({ id: Number(id), key: row.key, created: row.created });
  }
  return out;
}

const RECORD_FINISHED = `
WITH ins AS (
  INSERT INTO jobs (run_id, key, job_id, name, workflow, matrix, state, conclusion, error,
                    continue_on_error, finished_at, run_attempt)
  VALUES ($1, $2, $3, $4, $5, $6, 'completed', $7, $8, $9, now(), $10)
  ON CONFLICT (run_id, run_attempt, key) DO NOTHING
  RETURNING id
)
SELECT id FROM ins UNION ALL SELECT id FROM jobs WHERE run_id = $1 AND key = $2 AND run_attempt = $10`;

/** Stores a job that never ran as completed; returns its id (the existing one when already stored). */
export async function recordFinishedJob(db: Queryable, job: FinishedJob): Promise<number> {
  const params = [
    job.runId,
    job.key,
    job.jobId,
    job.name,
    job.workflow,
    job.matrix === null ? null : JSON.stringify(job.matrix),
    job.conclusion,
    job.error ?? null,
    job.continueOnError ?? false,
    job.runAttempt ?? 1,
  ];
  let row = (await run<{ id: string }>(db, "recordFinished", RECORD_FINISHED, params)).rows[0];
  // Lost a race with a concurrent insert of the same key: it is visible now.
  row ??= (await run<{ id: string }>(db, "enqueue.find", FIND, [job.runId, job.key, job.runAttempt ?? 1]))
    .rows[0];
  return Number(row?.id);
}
