// Jobs and their steps as the API shows them. A job names its node, image and flavour (by name:
// ids mean nothing to a reader) and links to its log.
import { AirlockError, ErrorCode } from "../../errors/index.js";
import { iso, isoOrNull, num } from "../catalog/db.js";
import type { Db } from "../catalog/index.js";
import type { Links } from "./links.js";

export interface Step {
  index: number;
  id: string;
  name: string;
  stage: string;
  outcome: string | null;
  conclusion: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface Job {
  id: number;
  runId: number;
  key: string;
  jobId: string;
  name: string;
  workflow: string;
  matrix: unknown;
  labels: string[];
  state: string;
  conclusion: string | null;
  /** The run attempt the job belongs to (github.run_attempt). */
  runAttempt: number;
  /**
   * A job of a "re-run failed jobs" attempt that was not run again: the job (of an earlier
   * attempt) whose result it keeps and whose log is its log. null for a job that ran.
   */
  reusedFrom: number | null;
  /** The delivery attempt: 1, one more each time the job was retried after a lost node. */
  attempt: number;
  node: string | null;
  image: string | null;
  flavour: string | null;
  waitReason: string | null;
  error: string | null;
  outputs: Record<string, unknown>;
  logBytes: number;
  logTruncated: boolean;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  url: string;
  steps: Step[];
}

const SELECT = `SELECT j.id, j.run_id, j.key, j.job_id, j.name, j.workflow, j.matrix, j.labels, j.state,
  j.conclusion, j.attempt, j.run_attempt, j.reused_from, n.name AS node, i.name AS image, f.name AS flavour, j.wait_reason, j.error,
  j.outputs, j.log_bytes, j.log_truncated, j.created_at, j.started_at, j.finished_at
  FROM jobs j
  LEFT JOIN nodes n ON n.id = j.node_id
  LEFT JOIN images i ON i.id = j.image_id
  LEFT JOIN flavours f ON f.id = j.flavour_id`;

function jobFromRow(r: Record<string, unknown>, steps: Step[], links: Links): Job {
  const id = num(r.id);
  return {
    id,
    runId: num(r.run_id),
    key: String(r.key),
    jobId: String(r.job_id),
    name: String(r.name),
    workflow: String(r.workflow),
    matrix: r.matrix ?? null,
    labels: r.labels as string[],
    state: String(r.state),
    conclusion: (r.conclusion ?? null) as string | null,
    runAttempt: num(r.run_attempt),
    reusedFrom: r.reused_from === null || r.reused_from === undefined ? null : num(r.reused_from),
    attempt: num(r.attempt),
    node: (r.node ?? null) as string | null,
    image: (r.image ?? null) as string | null,
    flavour: (r.flavour ?? null) as string | null,
    waitReason: (r.wait_reason ?? null) as string | null,
    error: (r.error ?? null) as string | null,
    outputs: (r.outputs ?? {}) as Record<string, unknown>,
    logBytes: num(r.log_bytes),
    logTruncated: Boolean(r.log_truncated),
    createdAt: iso(r.created_at),
    startedAt: isoOrNull(r.started_at),
    finishedAt: isoOrNull(r.finished_at),
    url: links.jobLogs(id),
    steps,
  };
}

function stepFromRow(r: Record<string, unknown>): Step {
  return {
    index: num(r.idx),
    id: String(r.step_id),
    name: String(r.name),
    stage: String(r.stage),
    outcome: (r.outcome ?? null) as string | null,
    conclusion: (r.conclusion ?? null) as string | null,
    startedAt: isoOrNull(r.started_at),
    finishedAt: isoOrNull(r.finished_at),
  };
}

async function stepsOf(db: Db, jobIds: number[]): Promise<Map<number, Step[]>> {
  const byJob = new Map<number, Step[]>(jobIds.map((id) => [id, []]));
  if (jobIds.length === 0) return byJob;
  const { rows } = await db.query(
    "SELECT * FROM steps WHERE job_id = ANY($1::bigint[]) ORDER BY job_id, idx",
    [jobIds],
  );
  for (const r of rows) byJob.get(num(r.job_id))?.push(stepFromRow(r));
  return byJob;
}

/** The jobs of one attempt of the run (default: every attempt's). */
export async function jobsOfRun(db: Db, runId: number, links: Links, runAttempt?: number): Promise<Job[]> {
  const { rows } = await db.query(
    `${SELECT} WHERE j.run_id = $1 AND ($2::integer IS NULL OR j.run_attempt = $2) ORDER BY j.id`,
    [runId, runAttempt ?? null],
  );
  const steps = await stepsOf(
    db,
    rows.map((r) => num(r.id)),
  );
  return rows.map((r) => jobFromRow(r, steps.get(num(r.id)) ?? [], links));
}

export async function getJob(db: Db, id: number, links: Links): Promise<Job> {
  const { rows } = await db.query(`${SELECT} WHERE j.id = $1`, [id]);
  if (!rows[0]) throw new AirlockError(ErrorCode.NOT_FOUND, `job ${id} not found`);
  const steps = await stepsOf(db, [id]);
  return jobFromRow(rows[0], steps.get(id) ?? [], links);
}

/** State, conclusion and why it waits: what the log stream needs to know, cheaply. */
export async function jobStatus(
  db: Db,
  id: number,
): Promise<{ state: string; conclusion: string | null; waitReason: string | null } | undefined> {
  const { rows } = await db.query<{ state: string; conclusion: string | null; wait_reason: string | null }>(
    "SELECT state, conclusion, wait_reason FROM jobs WHERE id = $1",
    [id],
  );
  const r = rows[0];
  return r && { state: r.state, conclusion: r.conclusion, waitReason: r.wait_reason };
}

/** The job whose log a job shows: itself, or the job a reused job keeps the result of. */
export async function logJobOf(db: Db, id: number): Promise<number> {
  const { rows } = await db.query<{ id: string }>(
    "SELECT coalesce(reused_from, id) AS id FROM jobs WHERE id = $1",
    [id],
  );
  return rows[0] ? Number(rows[0].id) : id;
}
