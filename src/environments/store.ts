// Environments of a repository with their protection rules: list, show, create or update, delete,
// and the implicit creation (no rules) when a job first names one, as GitHub does. Reviewers are
// stored by user id and shown by name. Every refusal is one line and changes nothing.
import type pg from "pg";
import { AirlockError, ErrorCode } from "../errors/index.js";
import type { Role } from "../auth/index.js";
import { checkRules, environmentName, NO_RULES, type Rules, type RulesInput } from "./rules.js";
import { shownName } from "./names.js";

export type Db = pg.Pool | pg.PoolClient;

export interface EnvironmentView extends Rules {
  name: string;
  repositoryId: number;
  createdBy: string;
  updatedBy: string;
  createdAt: string;
  updatedAt: string;
}

/** An environment as the gate reads it: its rules with the reviewers' ids. */
export interface EnvironmentRow extends EnvironmentView {
  id: number;
  reviewerIds: number[];
}

const SELECT = `
SELECT e.id, e.repository_id, e.name, e.reviewer_role, e.branch_patterns, e.tag_patterns,
       e.wait_timer_minutes, e.created_by, e.updated_by, e.created_at, e.updated_at,
       coalesce(array_agg(u.id ORDER BY u.name) FILTER (WHERE u.id IS NOT NULL), '{}') AS reviewer_ids,
       coalesce(array_agg(u.name ORDER BY u.name) FILTER (WHERE u.id IS NOT NULL), '{}') AS reviewer_names
  FROM environments e
  LEFT JOIN environment_reviewers r ON r.environment_id = e.id
  LEFT JOIN users u ON u.id = r.user_id`;

interface Row {
  id: string;
  repository_id: string;
  name: string;
  reviewer_role: Role | null;
  branch_patterns: string[];
  tag_patterns: string[];
  wait_timer_minutes: number;
  created_by: string;
  updated_by: string;
  created_at: Date;
  updated_at: Date;
  reviewer_ids: string[];
  reviewer_names: string[];
}

function fromRow(r: Row): EnvironmentRow {
  return {
    id: Number(r.id),
    repositoryId: Number(r.repository_id),
    name: r.name,
    reviewers: r.reviewer_names,
    reviewerIds: r.reviewer_ids.map(Number),
    reviewerRole: r.reviewer_role,
    branches: r.branch_patterns,
    tags: r.tag_patterns,
    waitTimerMinutes: r.wait_timer_minutes,
    createdBy: r.created_by,
    updatedBy: r.updated_by,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

export function publicView(e: EnvironmentRow): EnvironmentView {
  const { id: _id, reviewerIds: _ids, ...view } = e;
  return view;
}

export async function listEnvironments(db: Db, repositoryId: number): Promise<EnvironmentView[]> {
  const { rows } = await db.query<Row>(`${SELECT} WHERE e.repository_id = $1 GROUP BY e.id ORDER BY e.name`, [
    repositoryId,
  ]);
  return rows.map((r) => publicView(fromRow(r)));
}

/** The environment, or undefined (the name is checked first). */
export async function findEnvironment(
  db: Db,
  repositoryId: number,
  name: string,
): Promise<EnvironmentRow | undefined> {
  const { rows } = await db.query<Row>(`${SELECT} WHERE e.repository_id = $1 AND e.name = $2 GROUP BY e.id`, [
    repositoryId,
    environmentName(name),
  ]);
  return rows[0] ? fromRow(rows[0]) : undefined;
}

export async function getEnvironment(db: Db, repositoryId: number, name: string): Promise<EnvironmentRow> {
  const e = await findEnvironment(db, repositoryId, name);
  if (!e) throw new AirlockError(ErrorCode.NOT_FOUND, `environment ${shownName(name)} not found`);
  return e;
}

/** The environment a job names, made without rules the first time (concurrent jobs: one row). */
export async function ensureEnvironment(db: Db, repositoryId: number, name: string): Promise<EnvironmentRow> {
  const canonical = environmentName(name);
  await db.query(
    `INSERT INTO environments (repository_id, name, created_by, updated_by) VALUES ($1, $2, 'workflow', 'workflow')
     ON CONFLICT (repository_id, name) DO NOTHING`,
    [repositoryId, canonical],
  );
  return getEnvironment(db, repositoryId, canonical);
}

async function reviewerIds(db: Db, names: string[]): Promise<number[]> {
  if (names.length === 0) return [];
  const { rows } = await db.query<{ id: string; name: string }>(
    `SELECT id, name FROM users WHERE lower(name) = ANY($1::text[])`,
    [names.map((n) => n.toLowerCase())],
  );
  const found = new Map(rows.map((r) => [r.name.toLowerCase(), Number(r.id)]));
  const missing = names.filter((n) => !found.has(n.toLowerCase()));
  if (missing.length > 0)
    throw new AirlockError(
      ErrorCode.ENVIRONMENT_INVALID,
      `environment rules: no user named ${missing.map(shownName).join(", ")}`,
    );
  return names.map((n) => found.get(n.toLowerCase())!);
}

/** Creates the environment or changes its rules (fields left out stay as they are). Run in a transaction. */
export async function putEnvironment(
  db: pg.PoolClient,
  repositoryId: number,
  name: string,
  input: RulesInput,
  actor: string,
): Promise<{ created: boolean; environment: EnvironmentRow }> {
  const canonical = environmentName(name);
  const current = await findEnvironment(db, repositoryId, canonical);
  const rules = checkRules(input, current ?? NO_RULES);
  const ids = await reviewerIds(db, rules.reviewers);
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO environments (repository_id, name, reviewer_role, branch_patterns, tag_patterns,
                               wait_timer_minutes, created_by, updated_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
     ON CONFLICT (repository_id, name) DO UPDATE SET reviewer_role = $3, branch_patterns = $4,
       tag_patterns = $5, wait_timer_minutes = $6, updated_by = $7, updated_at = now()
     RETURNING id`,
    [repositoryId, canonical, rules.reviewerRole, rules.branches, rules.tags, rules.waitTimerMinutes, actor],
  );
  const id = rows[0]!.id;
  await db.query(`DELETE FROM environment_reviewers WHERE environment_id = $1`, [id]);
  if (ids.length > 0)
    await db.query(
      `INSERT INTO environment_reviewers (environment_id, user_id) SELECT $1, unnest($2::bigint[])`,
      [id, ids],
    );
  return { created: current === undefined, environment: await getEnvironment(db, repositoryId, canonical) };
}

/**
 * Deletes an environment with its secrets and variables (as GitHub does: otherwise the next job
 * naming it would re-create it without rules and get them). Refused while jobs wait for approval
 * to deploy to it. Returns what went, secrets and variables by name (never a value). Run in a
 * transaction: all of it goes, or nothing.
 */
export async function deleteEnvironment(
  db: Db,
  repositoryId: number,
  name: string,
): Promise<EnvironmentRow & { secrets: string[]; variables: string[] }> {
  const e = await getEnvironment(db, repositoryId, name);
  await db.query(`SELECT id FROM environments WHERE id = $1 FOR UPDATE`, [e.id]);
  const { rows } = await db.query<{ run_id: string }>(
    `SELECT DISTINCT d.run_id FROM deployments d JOIN jobs j ON j.id = d.job_id
      WHERE d.environment_id = $1 AND d.state = 'waiting' AND j.state = 'queued' ORDER BY d.run_id`,
    [e.id],
  );
  if (rows.length > 0)
    throw new AirlockError(
      ErrorCode.CONFLICT,
      `jobs of run ${rows.map((r) => r.run_id).join(", ")} wait for approval to deploy to ${e.name}: approve, reject or cancel them first`,
    );
  const gone = async (table: "secrets" | "variables"): Promise<string[]> =>
    (
      await db.query<{ name: string }>(
        `DELETE FROM ${table} WHERE repository_id = $1 AND environment = $2 RETURNING name`,
        [repositoryId, e.name],
      )
    ).rows
      .map((r) => r.name)
      .sort();
  const secrets = await gone("secrets");
  const variables = await gone("variables");
  await db.query(`DELETE FROM environments WHERE id = $1`, [e.id]);
  return { ...e, secrets, variables };
}
