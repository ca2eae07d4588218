// What an identity token says about a job attempt. Names and ids come from the database rows
// (organization, repository, run, job), never from what the job could influence; the job
// description adds what the planner decided (workflow, environment, run attempt). The subject is
// built from immutable ids, so a repository or organization renamed (or deleted and re-created
// under the same name) never matches a cloud-side trust policy written for the old one:
//   repo:ORG@ORGID/REPO@REPOID:environment:NAME     a job with an environment
//   repo:ORG@ORGID/REPO@REPOID:pull_request         pull_request events (GitHub's form)
//   repo:ORG@ORGID/REPO@REPOID:ref:refs/heads/main  anything else
import type { Db } from "./db.js";

export interface JobFacts {
  jobId: number;
  attempt: number;
  jobKey: string;
  organization: { id: number; name: string };
  repository: { id: number; name: string };
  run: { id: number; number: number; event: string; ref: string; commit: string; actor: string };
  workflow: { file: string; name: string; ref: string };
  runAttempt: string;
  environment: string | undefined;
  trustTier: "trusted" | "untrusted";
  /** When the attempt must end at the latest: its start (or assignment) plus its timeout. */
  deadline: Date;
}

interface Row {
  job_id: string;
  attempt: number;
  job_key: string;
  description: Record<string, unknown> | null;
  deadline_base: Date;
  org_id: string;
  org_name: string;
  repo_id: string;
  repo_name: string;
  run_id: string;
  run_number: number;
  event: string;
  ref: string;
  commit: string;
  actor: string;
  payload: Record<string, unknown> | null;
  trust_tier: string | null;
}

const FACTS = `
SELECT j.id AS job_id, j.attempt, j.job_id AS job_key, j.description,
       COALESCE(j.started_at, j.assigned_at, now()) AS deadline_base,
       o.id AS org_id, o.name AS org_name, p.id AS repo_id, p.name AS repo_name,
       r.id AS run_id, r.number AS run_number, r.event, r.ref, r.commit, r.actor, r.payload,
       r.trust_tier
  FROM jobs j JOIN runs r ON r.id = j.run_id
  JOIN repositories p ON p.id = r.repository_id JOIN organizations o ON o.id = p.organization_id
 WHERE j.id = $1`;

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

export async function jobFacts(db: Db, jobId: number): Promise<JobFacts | undefined> {
  const { rows } = await db.query<Row>(FACTS, [jobId]);
  const r = rows[0];
  if (!r) return undefined;
  const d = r.description ?? {};
  const github = (d.contexts as { github?: Record<string, unknown> } | undefined)?.github ?? {};
  const workflow = (d.workflow as { file?: unknown; name?: unknown } | undefined) ?? {};
  const file = str(workflow.file) ?? "";
  const timeout = typeof d.timeoutMinutes === "number" ? d.timeoutMinutes : 360;
  return {
    jobId: Number(r.job_id),
    attempt: r.attempt,
    jobKey: r.job_key,
    organization: { id: Number(r.org_id), name: r.org_name },
    repository: { id: Number(r.repo_id), name: r.repo_name },
    run: {
      id: Number(r.run_id),
      number: r.run_number,
      event: r.event,
      ref: r.ref,
      commit: r.commit,
      actor: r.actor,
    },
    workflow: {
      file,
      name: str(workflow.name) ?? file,
      ref: `${r.repo_name}/${file}@${r.ref}`,
    },
    runAttempt: str(github.run_attempt) ?? "1",
    environment: environmentOf(d.environment),
    // The run's own tier (decided when it was made: src/orchestrator/trust.ts); the payload rule
    // only for a row without one.
    trustTier:
      r.trust_tier === "trusted" || r.trust_tier === "untrusted"
        ? r.trust_tier
        : trustTier(r.event, r.payload ?? {}),
    deadline: new Date(new Date(r.deadline_base).getTime() + timeout * 60_000),
  };
}

/**
 * `environment:` as the planner stored it (a name, or `{ name, url }`), in its canonical form:
 * lower-case, as the environment's rules and secrets know it (names are case-insensitive), so a
 * trust policy written for `environment:production` matches a job that wrote `Production`.
 */
function environmentOf(v: unknown): string | undefined {
  const name =
    typeof v === "string"
      ? str(v)
      : v !== null && typeof v === "object"
        ? str((v as { name?: unknown }).name)
        : undefined;
  return name?.toLowerCase();
}

/**
 * The fallback for a run row without a trust tier (runs.trust_tier, migration 020, is always set
 * today): a pull request from another repository (a fork) is untrusted, everything else is the
 * repository's own code.
 */
export function trustTier(event: string, payload: Record<string, unknown>): "trusted" | "untrusted" {
  if (event !== "pull_request") return "trusted";
  const pr = payload.pull_request as
    { head?: { repo?: { full_name?: unknown; fork?: unknown } } } | undefined;
  const base = (payload.repository as { full_name?: unknown } | undefined)?.full_name;
  const head = pr?.head?.repo;
  if (head?.fork === true) return "untrusted";
  return head?.full_name !== undefined && head.full_name !== base ? "untrusted" : "trusted";
}

export function subjectOf(f: JobFacts): string {
  const base = `repo:${f.organization.name}@${f.organization.id}/${f.repository.name}@${f.repository.id}`;
  if (f.environment !== undefined) return `${base}:environment:${f.environment}`;
  if (f.run.event === "pull_request") return `${base}:pull_request`;
  return `${base}:ref:${f.run.ref}`;
}

/** The claims beside iss, sub, aud, iat, nbf, exp and jti. */
export function jobClaims(f: JobFacts): Record<string, string> {
  const refType = f.run.ref.startsWith("refs/tags/") ? "tag" : "branch";
  return {
    organization: f.organization.name,
    organization_id: String(f.organization.id),
    repository: f.repository.name,
    repository_id: String(f.repository.id),
    repository_owner: f.organization.name,
    repository_owner_id: String(f.organization.id),
    ref: f.run.ref,
    ref_type: refType,
    sha: f.run.commit,
    event_name: f.run.event,
    workflow: f.workflow.name,
    workflow_ref: f.workflow.ref,
    workflow_sha: f.run.commit,
    run_id: String(f.run.id),
    run_number: String(f.run.number),
    run_attempt: f.runAttempt,
    job: f.jobKey,
    job_attempt: String(f.attempt),
    ...(f.environment !== undefined ? { environment: f.environment } : {}),
    trust_tier: f.trustTier,
    actor: f.run.actor,
  };
}
