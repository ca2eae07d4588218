// Rows the core would write (runs, jobs, steps, log chunks, nodes' machines), inserted directly so
// the read side can be tested without the core.
import type pg from "pg";

export async function seedRun(
  pool: pg.Pool,
  repositoryId: number,
  opts: { state?: string; conclusion?: string | null } = {},
): Promise<number> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO runs (repository_id, number, event, ref, commit, trigger, actor, title, state, conclusion)
     VALUES ($1, (SELECT coalesce(max(number), 0) + 1 FROM runs WHERE repository_id = $1), 'push',
             'refs/heads/main', $2, 'manual', 'alice', 'Fix things', $3, $4)
     RETURNING id`,
    [repositoryId, "b".repeat(40), opts.state ?? "queued", opts.conclusion ?? null],
  );
  return Number(rows[0]?.id);
}

export async function seedJob(
  pool: pg.Pool,
  runId: number,
  opts: { state?: string; conclusion?: string | null; nodeId?: number | null; key?: string } = {},
): Promise<number> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO jobs (run_id, key, job_id, name, workflow, matrix, labels, state, conclusion, node_id, attempt)
     VALUES ($1, $2, 'build', 'Build', '.github/workflows/ci.yml', '{"os": "linux"}', '{ubuntu-latest}', $3, $4, $5, 1)
     RETURNING id`,
    [
      runId,
      opts.key ?? `ci.yml#build#${Math.random()}`,
      opts.state ?? "queued",
      opts.conclusion ?? null,
      opts.nodeId ?? null,
    ],
  );
  return Number(rows[0]?.id);
}

export async function seedSteps(pool: pg.Pool, jobId: number): Promise<void> {
  await pool.query(
    `INSERT INTO steps (job_id, idx, step_id, name, stage, outcome, conclusion)
     VALUES ($1, 0, 'checkout', 'Checkout', 'main', 'success', 'success'),
            ($1, 1, 'test', 'Run tests', 'main', NULL, NULL)`,
    [jobId],
  );
}

export async function seedLog(
  pool: pg.Pool,
  jobId: number,
  attempt: number,
  seq: number,
  data: string,
  source: "system" | "step" = "step",
): Promise<void> {
  await pool.query(
    "INSERT INTO log_chunks (job_id, attempt, seq, data, source) VALUES ($1, $2, $3, $4, $5)",
    [jobId, attempt, seq, data, source],
  );
}
