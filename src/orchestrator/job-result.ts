// Reads a completed job back as the JobResult the planner expects (for replays after a restart
// and for jobs finished by someone else: lease expiry, cancel).
import type { Queryable } from "../queue/index.js";
import type { Conclusion, JobResult, StepResult } from "../runner/types.js";

export interface JobRow {
  id: number;
  state: string;
  conclusion: Conclusion | null;
  outputs: Record<string, string>;
  error: string | null;
  durationMs: number;
}

export async function readJobRow(db: Queryable, jobId: number): Promise<JobRow | undefined> {
  const { rows } = await db.query<{
    id: string;
    state: string;
    conclusion: Conclusion | null;
    outputs: Record<string, string>;
    error: string | null;
    ms: number | null;
  }>(
    `SELECT id, state, conclusion, outputs, error,
            (EXTRACT(EPOCH FROM (finished_at - coalesce(started_at, finished_at))) * 1000)::float8 AS ms
       FROM jobs WHERE id = $1`,
    [jobId],
  );
  const r = rows[0];
  if (!r) return undefined;
  return {
    id: Number(r.id),
    state: r.state,
    conclusion: r.conclusion,
    outputs: r.outputs,
    error: r.error,
    durationMs: Math.round(r.ms ?? 0),
  };
}

export async function readJobResult(db: Queryable, row: JobRow): Promise<JobResult> {
  const { rows } = await db.query<{
    idx: number;
    step_id: string;
    name: string;
    stage: "pre" | "main" | "post";
    outcome: Conclusion | null;
    conclusion: Conclusion | null;
    outputs: Record<string, string>;
    ms: number | null;
  }>(
    `SELECT idx, step_id, name, stage, outcome, conclusion, outputs,
            (EXTRACT(EPOCH FROM (finished_at - started_at)) * 1000)::float8 AS ms
       FROM steps WHERE job_id = $1 ORDER BY idx`,
    [row.id],
  );
  const steps: StepResult[] = rows.map((s) => ({
    index: s.idx,
    id: s.step_id,
    name: s.name,
    stage: s.stage,
    outcome: s.outcome ?? "skipped",
    conclusion: s.conclusion ?? "skipped",
    outputs: s.outputs,
    durationMs: Math.round(s.ms ?? 0),
  }));
  const conclusion = row.state === "lost" ? "failure" : (row.conclusion ?? "failure");
  return {
    conclusion: conclusion === "skipped" ? "failure" : conclusion,
    outputs: row.outputs,
    steps,
    durationMs: row.durationMs,
  };
}
