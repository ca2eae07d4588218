// Runs as the API shows them: a summary (also what triggers return), the list with filters, and
// one run with its jobs and their steps.
import { AirlockError, ErrorCode } from "../../errors/index.js";
import type { RunSummary } from "../types.js";
import { iso, isoOrNull, num } from "../catalog/db.js";
import { scopeCondition, type Db, type ListScope } from "../catalog/index.js";
import { jobsOfRun, type Job } from "./jobs.js";
import type { Links } from "./links.js";
import { latestOfRun, type RunForgeStatus } from "../../forge-status/index.js";
import { graphFromColumn, type GraphJob } from "../run-graph.js";

export interface Run extends RunSummary {
  repository: string;
  title: string;
  trigger: string;
  actor: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
  /** The workflow's `name:` (or its file when it has none), and its file. */
  workflowName: string;
  workflowFile: string;
  /** docs/security.md, "Trust tiers". */
  trustTier: "trusted" | "untrusted";
  /** null: none needed; 'required': waiting for a maintainer (approvalReason says so). */
  approval: "required" | "approved" | "rejected" | null;
  approvalReason: string | null;
  approvedBy: string | null;
  /** Why a queued run has not started (its workflow's concurrency group), else null. */
  waitReason: string | null;
  /** The branch of `ref` (refs/heads/x → x), null for a tag or another ref. */
  branch: string | null;
  /** From start to finish (to now while it runs), null before it started. */
  durationMs: number | null;
  /**
   * When independent rebuilds of one of its artifacts first disagreed (docs/integrity.md
   * "Corroboration"): the artifact is quarantined; GET /runs/:id/mismatches says what differed.
   */
  artifactMismatchAt: string | null;
}

/** One attempt of a run (GitHub's run attempts): the first run and each re-run. */
export interface RunAttempt {
  attempt: number;
  /**
   * 'all': every job; 'failed': the failed jobs and their dependents; 'job': one job (`job`) and
   * its dependents. The others' results reused.
   */
  mode: "all" | "failed" | "job";
  job: string | null;
  /** Who started the attempt (github.triggering_actor). */
  triggeringActor: string;
  state: RunSummary["state"];
  conclusion: RunSummary["conclusion"];
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

/**
 * GET /runs/:id: one run with its jobs and their steps — the jobs of the current attempt, or of
 * `shownAttempt` when asked for (?attempt=N) — and every attempt.
 */
export interface RunDetail extends Run {
  /** The attempt whose jobs are listed. */
  shownAttempt: number;
  attempts: RunAttempt[];
  jobs: Job[];
  /**
   * The workflow's jobs and their `needs` as planned (the web UI's graph; jobs without rows yet
   * are waiting for the jobs they need). null: a run from before the graph was kept, or of a file
   * that did not parse.
   */
  graph: GraphJob[] | null;
  /** The run's newest commit status for its forge (null: none queued: no forge token). */
  forgeStatus?: RunForgeStatus | null;
}

/**
 * What GET /runs?status= matches: a state (in_progress is running, as on GitHub), a conclusion, or
 * action_required (an untrusted run waiting for a maintainer's approval).
 */
export const RUN_STATUSES = [
  "queued",
  "running",
  "in_progress",
  "completed",
  "success",
  "failure",
  "cancelled",
  "action_required",
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export interface RunFilter {
  repositoryId?: number;
  state?: RunSummary["state"];
  /** Exact matches, passed as parameters (never in the SQL text). */
  status?: RunStatus;
  /** The workflow's file (".github/workflows/ci.yml"), its base name with or without the extension, or its name. */
  workflow?: string;
  /** A branch (refs/heads/<branch>) or a full ref. */
  branch?: string;
  event?: string;
  actor?: string;
  /** Only runs with a smaller id (paging backwards). */
  before?: number;
  limit?: number;
  /** Only runs of repositories the caller may see (undefined: all). */
  scope?: ListScope;
}

export function runSummaryFromRow(r: Record<string, unknown>, links: Links): RunSummary {
  const id = num(r.id);
  return {
    id,
    repositoryId: num(r.repository_id),
    number: num(r.number),
    event: String(r.event),
    ref: String(r.ref),
    commit: String(r.commit),
    state: r.state as RunSummary["state"],
    conclusion: (r.conclusion ?? null) as RunSummary["conclusion"],
    attempt: r.attempt === undefined ? 1 : num(r.attempt),
    url: links.run(id),
  };
}

function runFromRow(r: Record<string, unknown>, links: Links): Run {
  return {
    ...runSummaryFromRow(r, links),
    repository: String(r.repository),
    title: String(r.title),
    trigger: String(r.trigger),
    actor: String(r.actor),
    createdAt: iso(r.created_at),
    startedAt: isoOrNull(r.started_at),
    finishedAt: isoOrNull(r.finished_at),
    error: (r.error ?? null) as string | null,
    workflowName: typeof r.workflow_name === "string" ? r.workflow_name : "",
    workflowFile: typeof r.workflow_file === "string" ? r.workflow_file : "",
    trustTier: r.trust_tier === "untrusted" ? "untrusted" : "trusted",
    approval: (r.approval ?? null) as Run["approval"],
    approvalReason: r.approval === "required" ? ((r.approval_reason ?? null) as string | null) : null,
    approvedBy: (r.approved_by ?? null) as string | null,
    waitReason: r.state === "queued" ? ((r.wait_reason ?? null) as string | null) : null,
    branch: String(r.ref).startsWith("refs/heads/") ? String(r.ref).slice("refs/heads/".length) : null,
    durationMs: r.duration_ms == null ? null : Math.max(0, Math.round(Number(r.duration_ms))),
    artifactMismatchAt: isoOrNull(r.artifact_mismatch_at),
  };
}

const SELECT = `SELECT r.id, r.repository_id, r.number, r.event, r.ref, r.commit, r.state, r.conclusion, r.attempt,
  p.name AS repository, r.title, r.trigger, r.actor, r.created_at, r.started_at, r.finished_at, r.error,
  r.trust_tier, r.approval, r.approval_reason, r.approved_by, r.workflow_name, r.workflow_file,
  r.wait_reason, r.artifact_mismatch_at,
  extract(epoch FROM coalesce(r.finished_at, now()) - r.started_at) * 1000 AS duration_ms
  FROM runs r JOIN repositories p ON p.id = r.repository_id`;

export async function listRuns(db: Db, filter: RunFilter, links: Links): Promise<Run[]> {
  const scope = scopeCondition(filter.scope, "p.organization_id", "p.id", 10);
  const { rows } = await db.query(
    `${SELECT}
     WHERE ($1::bigint IS NULL OR r.repository_id = $1) AND ($2::text IS NULL OR r.state = $2)
       AND ($3::bigint IS NULL OR r.id < $3)
       AND ($5::text IS NULL OR CASE $5
             WHEN 'in_progress' THEN r.state = 'running'
             WHEN 'action_required' THEN r.approval = 'required' AND r.state <> 'completed'
             ELSE r.state = $5 OR r.conclusion = $5 END)
       AND ($6::text IS NULL OR $6 IN (r.workflow_file, r.workflow_name,
             regexp_replace(r.workflow_file, '^.*/', ''),
             regexp_replace(r.workflow_file, '^.*/|\\.ya?ml$', '', 'g')))
       AND ($7::text IS NULL OR r.ref = $7 OR r.ref = 'refs/heads/' || $7)
       AND ($8::text IS NULL OR r.event = $8)
       AND ($9::text IS NULL OR r.actor = $9)
       AND ${scope.sql}
     ORDER BY r.id DESC LIMIT $4`,
    [
      filter.repositoryId ?? null,
      filter.state ?? null,
      filter.before ?? null,
      filter.limit ?? 50,
      filter.status ?? null,
      filter.workflow ?? null,
      filter.branch ?? null,
      filter.event ?? null,
      filter.actor ?? null,
      ...scope.params,
    ],
  );
  return rows.map((r) => runFromRow(r, links));
}

/** The run's attempts, oldest first; the current one's state is the run's. */
async function attemptsOf(db: Db, run: Run): Promise<RunAttempt[]> {
  const { rows } = await db.query(
    `SELECT attempt, mode, job, triggering_actor, conclusion, error, created_at, started_at, finished_at
       FROM run_attempts WHERE run_id = $1 ORDER BY attempt`,
    [run.id],
  );
  // A run made without its attempt row (by hand, an older tool) still shows its current attempt.
  if (!rows.some((a) => num(a.attempt) === run.attempt))
    rows.push({ attempt: run.attempt, mode: "all", triggering_actor: run.actor, created_at: run.createdAt });
  return rows.map((a) => {
    const current = num(a.attempt) === run.attempt;
    return {
      attempt: num(a.attempt),
      mode: a.mode === "failed" || a.mode === "job" ? a.mode : "all",
      job: typeof a.job === "string" ? a.job : null,
      triggeringActor: String(a.triggering_actor ?? ""),
      state: current ? run.state : "completed",
      conclusion: current ? run.conclusion : ((a.conclusion ?? null) as RunSummary["conclusion"]),
      error: current ? run.error : ((a.error ?? null) as string | null),
      createdAt: iso(a.created_at),
      startedAt: current ? run.startedAt : isoOrNull(a.started_at),
      finishedAt: current ? run.finishedAt : isoOrNull(a.finished_at),
    };
  });
}

/** One run; `attempt` picks whose jobs are listed (default the current one; NOT_FOUND past it). */
export async function getRun(db: Db, id: number, links: Links, attempt?: number): Promise<RunDetail> {
  const { rows } = await db.query(`${SELECT} WHERE r.id = $1`, [id]);
  if (!rows[0]) throw new AirlockError(ErrorCode.NOT_FOUND, `run ${id} not found`);
  const run = runFromRow(rows[0], links);
  const shown = attempt ?? run.attempt;
  if (shown < 1 || shown > run.attempt)
    throw new AirlockError(
      ErrorCode.NOT_FOUND,
      `run ${id} has no attempt ${shown} (attempts 1 to ${run.attempt})`,
    );
  const graph = await db.query<{ graph: unknown }>(`SELECT graph FROM runs WHERE id = $1`, [id]);
  return {
    ...run,
    shownAttempt: shown,
    graph: graphFromColumn(graph.rows[0]?.graph),
    attempts: await attemptsOf(db, run),
    jobs: await jobsOfRun(db, id, links, shown),
    forgeStatus: (await latestOfRun(db, id)) ?? null,
  };
}
