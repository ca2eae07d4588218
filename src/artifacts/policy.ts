// A repository's artifact policy (migration 037): its quota of finalized artifact bytes and its
// promotion gate (issue 13, item 8). No row means every default: the server's quota, promotion of
// `corroborated` and `trusted` artifacts of trusted runs only. `mismatch` is never promotable, and
// the policy cannot say otherwise (the column's CHECK refuses it too).
import { AirlockError, ErrorCode } from "../errors/index.js";
import type { Db } from "./db.js";
import type { ArtifactRecord, ArtifactStatus } from "./records.js";

/** Statuses a policy may name as promotable: every status but `mismatch`. */
export const PROMOTABLE_STATUSES = ["corroborated", "trusted", "unverified"] as const;
export type PromotableStatus = (typeof PROMOTABLE_STATUSES)[number];

/**
 * Independent rebuilds of the jobs that upload artifacts (migration 038, corroboration/): `builds`
 * in all, each by a different operator, `agree` of them identical for `corroborated`; `trustedBuild`:
 * one more on a trusted worker when the job ran on an untrusted one. `workflows`: only these
 * workflow files (null: all). builds 1 and no trustedBuild: no replicas.
 */
export interface CorroborationPolicy {
  builds: number;
  agree: number;
  trustedBuild: boolean;
  workflows: string[] | null;
}

export interface ArtifactPolicy {
  /** The repository's own quota in bytes; null: the server's default applies. */
  quotaBytes: number | null;
  promote: { requireStatus: PromotableStatus[]; allowUntrustedRuns: boolean };
  corroborate: CorroborationPolicy;
}

export const MAX_BUILDS = 9;

export const DEFAULT_POLICY: ArtifactPolicy = {
  quotaBytes: null,
  promote: { requireStatus: ["corroborated", "trusted"], allowUntrustedRuns: false },
  corroborate: { builds: 1, agree: 1, trustedBuild: false, workflows: null },
};

interface Row {
  quota_bytes: string | null;
  promote_require_status: PromotableStatus[];
  allow_untrusted_runs: boolean;
  corroborate_builds: number;
  corroborate_agree: number;
  corroborate_trusted_build: boolean;
  corroborate_workflows: string[] | null;
}

export async function artifactPolicy(db: Db, repositoryId: number): Promise<ArtifactPolicy> {
  const { rows } = await db.query<Row>(
    `SELECT quota_bytes, promote_require_status, allow_untrusted_runs, corroborate_builds,
            corroborate_agree, corroborate_trusted_build, corroborate_workflows
       FROM repository_artifact_policies WHERE repository_id = $1`,
    [repositoryId],
  );
  const r = rows[0];
  if (!r) return structuredClone(DEFAULT_POLICY);
  return {
    quotaBytes: r.quota_bytes === null ? null : Number(r.quota_bytes),
    promote: { requireStatus: r.promote_require_status, allowUntrustedRuns: r.allow_untrusted_runs },
    corroborate: {
      builds: r.corroborate_builds,
      agree: r.corroborate_agree,
      trustedBuild: r.corroborate_trusted_build,
      workflows: r.corroborate_workflows,
    },
  };
}

function checkCorroboration(c: CorroborationPolicy): void {
  const whole = (n: number, lo: number, hi: number): boolean => Number.isInteger(n) && n >= lo && n <= hi;
  if (!whole(c.builds, 1, MAX_BUILDS))
    throw new AirlockError(
      ErrorCode.ARTIFACT_INVALID,
      `corroborate.builds is a whole number from 1 to ${MAX_BUILDS}`,
    );
  if (!whole(c.agree, 1, c.builds))
    throw new AirlockError(
      ErrorCode.ARTIFACT_INVALID,
      `corroborate.agree is a whole number from 1 to builds (${c.builds})`,
    );
  if (
    c.workflows !== null &&
    (c.workflows.length === 0 ||
      c.workflows.some((w) => !/^\.(github|gitea|forgejo)\/workflows\/[^\0]{1,200}\.ya?ml$/.test(w)))
  )
    throw new AirlockError(
      ErrorCode.ARTIFACT_INVALID,
      "corroborate.workflows lists workflow files such as .github/workflows/build.yml (or is null for all)",
    );
}

/** Replaces the repository's policy (the caller has checked the administrator's right). */
export async function setArtifactPolicy(db: Db, repositoryId: number, p: ArtifactPolicy): Promise<void> {
  const statuses = [...new Set(p.promote.requireStatus)];
  if (statuses.length === 0 || statuses.some((s) => !(PROMOTABLE_STATUSES as readonly string[]).includes(s)))
    throw new AirlockError(
      ErrorCode.ARTIFACT_INVALID,
      "promote.requireStatus names one or more of corroborated, trusted, unverified (mismatch is never promotable)",
    );
  if (p.quotaBytes !== null && (!Number.isSafeInteger(p.quotaBytes) || p.quotaBytes < 0))
    throw new AirlockError(ErrorCode.ARTIFACT_INVALID, "quotaBytes is a whole number of bytes, or null");
  const c = p.corroborate;
  checkCorroboration(c);
  await db.query(
    `INSERT INTO repository_artifact_policies (repository_id, quota_bytes, promote_require_status, allow_untrusted_runs,
       corroborate_builds, corroborate_agree, corroborate_trusted_build, corroborate_workflows)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (repository_id) DO UPDATE SET quota_bytes = EXCLUDED.quota_bytes,
       promote_require_status = EXCLUDED.promote_require_status,
       allow_untrusted_runs = EXCLUDED.allow_untrusted_runs, corroborate_builds = EXCLUDED.corroborate_builds,
       corroborate_agree = EXCLUDED.corroborate_agree, corroborate_trusted_build = EXCLUDED.corroborate_trusted_build,
       corroborate_workflows = EXCLUDED.corroborate_workflows, updated_at = now()`,
    [
      repositoryId,
      p.quotaBytes,
      statuses,
      p.promote.allowUntrustedRuns,
      c.builds,
      c.agree,
      c.trustedBuild,
      c.workflows,
    ],
  );
}

/**
 * Why the policy refuses to promote this artifact (one line), or undefined when it allows it.
 * The run's trust tier is the one the artifact's row recorded at upload (the run's, not the node's).
 */
export function promotionRefusal(a: ArtifactRecord, p: ArtifactPolicy): string | undefined {
  const status: ArtifactStatus = a.status;
  if (a.replicaOf !== null)
    return `artifact ${a.id} is a replica's build, kept to compare with the job's own; promote that one`;
  if (a.awaitingRebuilds && status !== "mismatch")
    return `artifact "${a.name}" waits for the verdict of its independent rebuilds (the repository's corroboration policy); try again once they are judged`;
  if (status === "mismatch")
    return `artifact "${a.name}" is quarantined (status mismatch: independent builds differ) and is never promotable`;
  if (!(p.promote.requireStatus as string[]).includes(status))
    return `artifact "${a.name}" is ${status}; the repository's policy promotes only ${p.promote.requireStatus.join(" or ")}`;
  if (a.trustTier !== "trusted" && !p.promote.allowUntrustedRuns)
    return `artifact "${a.name}" was built by an untrusted run; the repository's policy does not allow promoting those (allowUntrustedRuns)`;
  return undefined;
}

/** The repository's finalized artifact bytes (the quota counts these). */
export async function repositoryUsage(db: Db, repositoryId: number): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    `SELECT coalesce(sum(size), 0) AS n FROM artifacts WHERE repository_id = $1 AND state = 'finalized'`,
    [repositoryId],
  );
  return Number(rows[0]?.n ?? 0);
}

/** The quota in force: the repository's own, else the server's default. */
export async function quotaOf(db: Db, repositoryId: number, serverDefault: number): Promise<number> {
  return (await artifactPolicy(db, repositoryId)).quotaBytes ?? serverDefault;
}

const GiB = 1024 ** 3;
const human = (n: number): string =>
  n >= GiB
    ? `${(n / GiB).toFixed(2)} GiB`
    : n >= 1024 ** 2
      ? `${(n / 1024 ** 2).toFixed(1)} MiB`
      : `${n} bytes`;

export function quotaExceeded(name: string, used: number, adding: number, quota: number): AirlockError {
  const what = adding > 0 ? `"${name}" (${human(adding)}) would take it past` : "it has reached";
  return new AirlockError(
    ErrorCode.ARTIFACT_QUOTA_EXCEEDED,
    `the repository's artifacts use ${human(used)}; ${what} its quota of ${human(quota)} (delete artifacts or ask an administrator to raise it)`,
  );
}
