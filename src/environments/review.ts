// Deployments of a run (jobs that deploy to an environment with required reviewers) and their
// review: approving or rejecting every waiting deployment of the run to the environments named
// (all of them by default). All or nothing: when the reviewer may not review one of them, nothing
// changes. The user who triggered the run (or the run it re-runs, or pushed it under a linked
// forge login) can never review it; a named reviewer or a user holding
// the environment's reviewer role may. The jobs' gates are evaluated again in the same transaction.
import type pg from "pg";
import { AirlockError, ErrorCode } from "../errors/index.js";
import { gateJob, type GateOutcome } from "./gate.js";
import { environmentName, MAX_COMMENT_CHARS, approversText, reviewRefusal, type Reviewer } from "./rules.js";
import { findEnvironment, type Db } from "./store.js";
import { shownName } from "./names.js";

export interface DeploymentView {
  jobId: number;
  jobName: string;
  environment: string;
  state: "waiting" | "approved" | "rejected";
  reviewer: string | null;
  comment: string | null;
  createdAt: string;
  reviewedAt: string | null;
  /** Who may review it (waiting deployments). */
  approvers?: string;
  /** Whether the asking user may review it (waiting deployments, when the caller says who asks). */
  youMay?: boolean;
}

interface RunInfo {
  actor: string;
  repositoryId: number;
  repository: string;
}

async function runInfo(db: Db, runId: number): Promise<RunInfo> {
  const { rows } = await db.query<{ actor: string; repository_id: string; name: string }>(
    `SELECT r.actor, p.id AS repository_id, p.name FROM runs r JOIN repositories p ON p.id = r.repository_id
      WHERE r.id = $1`,
    [runId],
  );
  const r = rows[0];
  if (!r) throw new AirlockError(ErrorCode.NOT_FOUND, `run ${runId} not found`);
  return { actor: r.actor, repositoryId: Number(r.repository_id), repository: r.name };
}

/**
 * Whether user `userId` triggered the run (GitHub: whoever triggered the run attempt, re-runs
 * included): the user recorded as triggering it, any of its attempts, or any run it re-runs (runs
 * made by re-runs before they became attempts: a manual trigger, a re-run, the maker of a service
 * token that triggered it), or a user whose name or linked login at a
 * provider (the forge login a webhook names) is the actor of one of them.
 */
async function triggeredBy(db: Db, runId: number, userId: number): Promise<boolean> {
  const { rows } = await db.query<{ triggered: boolean }>(
    `WITH RECURSIVE chain AS (
       SELECT id, rerun_of, triggered_by_user_id, actor, 0 AS depth FROM runs WHERE id = $1
       UNION ALL
       SELECT r.id, r.rerun_of, r.triggered_by_user_id, r.actor, c.depth + 1
         FROM runs r JOIN chain c ON r.id = c.rerun_of WHERE c.depth < 1000
     )
     SELECT EXISTS (SELECT 1 FROM chain WHERE triggered_by_user_id = $2)
         OR EXISTS (SELECT 1 FROM run_attempts a, chain c WHERE a.run_id = c.id AND a.triggered_by_user_id = $2)
         OR EXISTS (SELECT 1 FROM users u, chain c WHERE u.id = $2 AND lower(u.name) = lower(c.actor))
         OR EXISTS (SELECT 1 FROM user_identities i, chain c
                     WHERE i.user_id = $2 AND i.login IS NOT NULL AND lower(i.login) = lower(c.actor))
         AS triggered`,
    [runId, userId],
  );
  return rows[0]?.triggered === true;
}

/**
 * The run's deployments. `asking`: the user who asks (null: one who may not review at all, e.g. a
 * service token): each waiting deployment then says whether that user may review it, decided by
 * the rules reviewDeployments applies (reviewRefusal).
 */
export async function listDeployments(
  db: Db,
  runId: number,
  asking?: Reviewer | null,
): Promise<DeploymentView[]> {
  const run = await runInfo(db, runId);
  const triggeredByAsking = asking ? await triggeredBy(db, runId, asking.id) : false;
  const { rows } = await db.query<{
    job_id: string;
    job_name: string;
    environment: string;
    state: DeploymentView["state"];
    reviewer_name: string | null;
    comment: string | null;
    created_at: Date;
    reviewed_at: Date | null;
  }>(
    `SELECT d.job_id, j.name AS job_name, d.environment, d.state, d.reviewer_name, d.comment, d.created_at, d.reviewed_at
       FROM deployments d JOIN jobs j ON j.id = d.job_id WHERE d.run_id = $1 ORDER BY d.job_id`,
    [runId],
  );
  const out: DeploymentView[] = [];
  for (const r of rows) {
    const view: DeploymentView = {
      jobId: Number(r.job_id),
      jobName: r.job_name,
      environment: r.environment,
      state: r.state,
      reviewer: r.reviewer_name,
      comment: r.comment,
      createdAt: r.created_at.toISOString(),
      reviewedAt: r.reviewed_at?.toISOString() ?? null,
    };
    if (r.state === "waiting") {
      const env = await findEnvironment(db, run.repositoryId, r.environment);
      if (env) view.approvers = approversText(env, run.repository, run.actor);
      if (asking !== undefined)
        view.youMay =
          asking !== null &&
          reviewRefusal(env ?? { reviewerIds: [], reviewers: [], reviewerRole: null }, asking, {
            environment: r.environment,
            repository: run.repository,
            actor: run.actor,
            triggeredByReviewer: triggeredByAsking,
          }) === undefined;
    }
    out.push(view);
  }
  return out;
}

export interface ReviewRequest {
  runId: number;
  state: "approved" | "rejected";
  /** Environment names; absent: every environment the run waits for. */
  environments?: string[];
  comment?: string;
  reviewer: Reviewer;
}

export interface ReviewResult {
  /** What was reviewed, per environment: the jobs and their gate outcome. */
  environments: Array<{
    name: string;
    jobs: Array<{ jobId: number; jobName: string; outcome: GateOutcome }>;
  }>;
}

/** Why the review is refused, one line (FORBIDDEN), or CONFLICT when nothing waits. Run in a transaction. */
export async function reviewDeployments(db: pg.PoolClient, req: ReviewRequest): Promise<ReviewResult> {
  if (req.comment !== undefined && req.comment.length > MAX_COMMENT_CHARS)
    throw new AirlockError(ErrorCode.USAGE, `the comment is longer than ${MAX_COMMENT_CHARS} characters`);
  const run = await runInfo(db, req.runId);
  const { rows } = await db.query<{ job_id: string; job_name: string; environment: string }>(
    `SELECT d.job_id, j.name AS job_name, d.environment FROM deployments d JOIN jobs j ON j.id = d.job_id
      WHERE d.run_id = $1 AND d.state = 'waiting' AND j.state = 'queued'
      ORDER BY d.job_id FOR UPDATE OF d`,
    [req.runId],
  );
  const waiting = new Map<string, Array<{ jobId: number; jobName: string }>>();
  for (const r of rows) {
    const list = waiting.get(r.environment) ?? [];
    list.push({ jobId: Number(r.job_id), jobName: r.job_name });
    waiting.set(r.environment, list);
  }
  const names = req.environments?.map(environmentName) ?? [...waiting.keys()];
  if (names.length === 0)
    throw new AirlockError(ErrorCode.CONFLICT, `no job of run ${req.runId} waits for approval to deploy`);
  const notWaiting = names.filter((n) => !waiting.has(n));
  if (notWaiting.length > 0)
    throw new AirlockError(
      ErrorCode.CONFLICT,
      `no job of run ${req.runId} waits for approval to deploy to ${notWaiting.map(shownName).join(", ")}`,
    );
  const triggeredByReviewer = await triggeredBy(db, req.runId, req.reviewer.id);
  for (const name of names) {
    const env = await findEnvironment(db, run.repositoryId, name);
    const rules = env ?? { reviewerIds: [], reviewers: [], reviewerRole: null };
    const why = reviewRefusal(rules, req.reviewer, {
      environment: name,
      repository: run.repository,
      actor: run.actor,
      triggeredByReviewer,
    });
    if (why !== undefined) throw new AirlockError(ErrorCode.FORBIDDEN, why);
  }
  const result: ReviewResult = { environments: [] };
  for (const name of [...new Set(names)]) {
    const jobs = waiting.get(name)!;
    await db.query(
      `UPDATE deployments SET state = $2, reviewer_id = $3, reviewer_name = $4, comment = $5, reviewed_at = now()
        WHERE job_id = ANY($1::bigint[]) AND state = 'waiting'`,
      [jobs.map((j) => j.jobId), req.state, req.reviewer.id, req.reviewer.name, req.comment ?? null],
    );
    const reviewed = [];
    for (const j of jobs) reviewed.push({ ...j, outcome: await gateJob(db, j.jobId) });
    result.environments.push({ name, jobs: reviewed });
  }
  return result;
}
