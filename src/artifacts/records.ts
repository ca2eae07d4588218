// The artifact rows (migration 032): made by CreateArtifact, given their digest when the block list
// is committed, finalized when the client's declared size and digest match. States:
//   uploading -> finalized   (FinalizeArtifact; enforced by `WHERE state = 'uploading'`)
// A run attempt sees its own artifacts and those of earlier attempts of the run (a re-run of failed
// jobs downloads what the reused jobs uploaded); of one name, the newest attempt's.
import { AirlockError, ErrorCode } from "../errors/index.js";
import type { Db } from "./db.js";
import type { Caller } from "./runtime-token.js";

export const ARTIFACT_STATES = { uploading: "uploading", finalized: "finalized" } as const;
export type ArtifactState = (typeof ARTIFACT_STATES)[keyof typeof ARTIFACT_STATES];
export const ARTIFACT_STATUSES = ["corroborated", "trusted", "unverified", "mismatch"] as const;
export type ArtifactStatus = (typeof ARTIFACT_STATUSES)[number];

export interface ArtifactRecord {
  id: number;
  repositoryId: number;
  runId: number;
  runAttempt: number;
  jobId: number;
  jobAttempt: number;
  name: string;
  mimeType: string;
  size: number | null;
  sha256: string | null;
  nodeId: number | null;
  trustTier: "trusted" | "untrusted";
  state: ArtifactState;
  /** corroborated | trusted | unverified | mismatch (attest.ts, docs/integrity.md). */
  status: ArtifactStatus;
  createdAt: Date;
  finalizedAt: Date | null;
  expiresAt: Date;
  /** Set once by a promotion the repository's policy allowed (migration 037). */
  promotedAt: Date | null;
  promotedBy: string | null;
  /** Uploaded by a replica of this job (migration 038): compared, never listed to jobs or promoted. */
  replicaOf: number | null;
  /** Its job's rebuilds are not judged yet (migration 038): not promotable, deployments wait. */
  awaitingRebuilds: boolean;
}

interface Row {
  id: string;
  repository_id: string;
  run_id: string;
  run_attempt: number;
  job_id: string;
  job_attempt: number;
  name: string;
  mime_type: string;
  size: string | null;
  sha256: string | null;
  node_id: string | null;
  trust_tier: "trusted" | "untrusted";
  state: ArtifactState;
  status?: ArtifactStatus;
  created_at: Date;
  finalized_at: Date | null;
  expires_at: Date;
  promoted_at?: Date | null;
  promoted_by?: string | null;
  replica_of?: string | null;
  awaiting_rebuilds?: boolean;
}

export function toRecord(r: Row): ArtifactRecord {
  return {
    id: Number(r.id),
    repositoryId: Number(r.repository_id),
    runId: Number(r.run_id),
    runAttempt: r.run_attempt,
    jobId: Number(r.job_id),
    jobAttempt: r.job_attempt,
    name: r.name,
    mimeType: r.mime_type,
    size: r.size === null ? null : Number(r.size),
    sha256: r.sha256,
    nodeId: r.node_id === null ? null : Number(r.node_id),
    trustTier: r.trust_tier,
    state: r.state,
    status: r.status ?? "unverified",
    createdAt: r.created_at,
    finalizedAt: r.finalized_at,
    expiresAt: r.expires_at,
    promotedAt: r.promoted_at ?? null,
    promotedBy: r.promoted_by ?? null,
    replicaOf: r.replica_of == null ? null : Number(r.replica_of),
    awaitingRebuilds: r.awaiting_rebuilds === true,
  };
}

/** GitHub's rule (upload/path-and-artifact-name-validation.js), plus no control characters. */
const BAD_NAME = /[":<>|*?\\/]/;
const hasControl = (s: string): boolean =>
  [...s].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f);

export function checkArtifactName(name: string): void {
  if (
    name.length === 0 ||
    name.length > 256 ||
    BAD_NAME.test(name) ||
    hasControl(name) ||
    name.trim() !== name
  )
    throw new AirlockError(
      ErrorCode.ARTIFACT_INVALID,
      'an artifact name is 1-256 characters without " : < > | * ? \\ / or control characters',
    );
}

export async function insertArtifact(
  db: Db,
  c: Caller,
  a: { name: string; mimeType: string; expiresAt: Date },
): Promise<ArtifactRecord> {
  const { rows } = await db.query<Row>(
    `INSERT INTO artifacts (repository_id, run_id, run_attempt, job_id, job_attempt, name, mime_type,
                            node_id, trust_tier, expires_at, replica_of)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT DO NOTHING RETURNING *`,
    [
      c.repositoryId,
      c.runId,
      c.runAttempt,
      c.jobId,
      c.attempt,
      a.name,
      a.mimeType,
      c.nodeId,
      c.trustTier,
      a.expiresAt,
      c.replicaOf ?? null,
    ],
  );
  if (!rows[0])
    throw new AirlockError(
      ErrorCode.CONFLICT,
      `an artifact named "${a.name}" exists in this run attempt already`,
    );
  return toRecord(rows[0]);
}

/** The caller's own run attempt's artifact of that name, any state (a replica's: its own upload). */
export async function ownArtifact(
  db: Db,
  c: Caller,
  name: string,
  lock = false,
): Promise<ArtifactRecord | undefined> {
  const { rows } =
    c.replicaOf === undefined
      ? await db.query<Row>(
          `SELECT * FROM artifacts WHERE run_id = $1 AND run_attempt = $2 AND name = $3 AND replica_of IS NULL${lock ? " FOR UPDATE" : ""}`,
          [c.runId, c.runAttempt, name],
        )
      : await db.query<Row>(
          `SELECT * FROM artifacts WHERE job_id = $1 AND name = $2 AND replica_of IS NOT NULL${lock ? " FOR UPDATE" : ""}`,
          [c.jobId, name],
        );
  return rows[0] ? toRecord(rows[0]) : undefined;
}

export async function artifactById(db: Db, id: number): Promise<ArtifactRecord | undefined> {
  const { rows } = await db.query<Row>(`SELECT * FROM artifacts WHERE id = $1`, [id]);
  return rows[0] ? toRecord(rows[0]) : undefined;
}

/**
 * The finalized artifacts the caller's run attempt sees (newest attempt per name), filtered. A
 * quarantined one (status mismatch) is not among them: no job lists or downloads it, and it does
 * not fall back to an older attempt's artifact of that name either.
 */
export async function visibleArtifacts(
  db: Db,
  c: Caller,
  filter: { name?: string; id?: number } = {},
): Promise<ArtifactRecord[]> {
  // A rebuild sees what the job it rebuilds could see when it started: not that job's own
  // uploads, nor anything finalized after it started (a checked build cannot feed its checker).
  const { rows } = await db.query<Row>(
    `SELECT DISTINCT ON (name) * FROM artifacts
      WHERE run_id = $1 AND run_attempt <= $2 AND state = 'finalized' AND expires_at > now()
        AND replica_of IS NULL AND ($3::text IS NULL OR name = $3) AND ($4::bigint IS NULL OR id = $4)
        AND ($5::bigint IS NULL OR (job_id <> $5 AND finalized_at <= (SELECT started_at FROM jobs WHERE id = $5)))
      ORDER BY name, run_attempt DESC`,
    [c.runId, c.runAttempt, filter.name ?? null, filter.id ?? null, c.replicaOf ?? null],
  );
  return rows
    .map(toRecord)
    .filter((a) => a.status !== "mismatch")
    .sort((a, b) => a.id - b.id);
}

/** uploading -> finalized. False when the row is not (or no longer) uploading. */
export async function markFinalized(db: Db, id: number): Promise<boolean> {
  const r = await db.query(
    `UPDATE artifacts SET state = 'finalized', finalized_at = now()
      WHERE id = $1 AND state = 'uploading' AND sha256 IS NOT NULL`,
    [id],
  );
  return r.rowCount === 1;
}

/** A run's finalized artifacts (every attempt), newest attempt first, then by name (the API's list). */
export async function runArtifacts(db: Db, runId: number): Promise<ArtifactRecord[]> {
  const { rows } = await db.query<Row>(
    `SELECT * FROM artifacts WHERE run_id = $1 AND state = 'finalized' AND replica_of IS NULL
      ORDER BY run_attempt DESC, name, id`,
    [runId],
  );
  return rows.map(toRecord);
}

/** finalized, not yet promoted -> promoted. False when it was promoted already (or is not finalized). */
export async function markPromoted(db: Db, id: number, by: string): Promise<boolean> {
  const r = await db.query(
    `UPDATE artifacts SET promoted_at = now(), promoted_by = $2
      WHERE id = $1 AND state = 'finalized' AND status <> 'mismatch' AND promoted_at IS NULL`,
    [id, by.slice(0, 200)],
  );
  return r.rowCount === 1;
}
