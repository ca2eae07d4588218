// What the orchestrator says about a finalized artifact: its status and its signed provenance.
// Both come from the control plane's own records (the run, its repository and commit, the job,
// the node the job ran on and that node's worker trust and operator, set by an administrator and
// taken as recorded when the job was assigned: migration 039), never from what the worker claims. Without corroboration (a single build) the status is
// `trusted` when a trusted worker built it and `unverified` otherwise (docs/integrity.md).
import { AirlockError, ErrorCode } from "../errors/index.js";
import type { Kms } from "../secrets/index.js";
import type { Db } from "./db.js";
import {
  builderIdOf,
  envelopeFile,
  invocationIdOf,
  pinnedActions,
  signProvenance,
  sourceLocation,
  type CorroborationStatus,
  type Envelope,
} from "./provenance/index.js";

/** The repository's code location for provenance (its clone URL without credentials), when known. */
const sourceUrl = (cloneUrl: string): { url?: string } => {
  const url = sourceLocation(cloneUrl);
  return url === undefined ? {} : { url };
};

interface Facts {
  artifact_id: string;
  name: string;
  sha256: string;
  run_id: string;
  run_attempt: number;
  ref: string;
  commit: string;
  workflow_file: string;
  job_key: string;
  job_name: string;
  trust_tier: "trusted" | "untrusted";
  repository: string;
  clone_url: string;
  organization_id: string;
  started_at: Date | null;
  finished_at: Date;
  node: string | null;
  operator: string | null;
  worker_trust: "trusted" | "untrusted" | null;
  actions: unknown;
}

// The builder's trust and operator as recorded when the uploading attempt was assigned (migration
// 039), which the job row holds while the artifact is of its current attempt on the same node (the
// case at finalize and at a verdict). A job assigned before that migration has no record: the
// node's current values. A record of another assignment says nothing of this one: untrusted, no
// operator.
const OTHER_ASSIGNMENT = `(j.attempt = a.job_attempt AND j.node_id = a.node_id) IS NOT TRUE`;
const FACTS = `
SELECT a.id AS artifact_id, a.name, a.sha256, a.run_id, a.run_attempt, r.ref, r.commit, r.workflow_file,
       j.key AS job_key, j.name AS job_name, r.trust_tier, p.name AS repository, p.clone_url, p.organization_id,
       j.started_at, coalesce(a.finalized_at, now()) AS finished_at, n.name AS node,
       CASE WHEN ${OTHER_ASSIGNMENT} THEN NULL WHEN j.assigned_worker_trust IS NULL THEN n.operator
            ELSE j.assigned_operator END AS operator,
       CASE WHEN ${OTHER_ASSIGNMENT} THEN 'untrusted' WHEN j.assigned_worker_trust IS NULL THEN n.worker_trust
            ELSE j.assigned_worker_trust END AS worker_trust,
       j.description->'resolvedActions' AS actions
  FROM artifacts a
  JOIN runs r ON r.id = a.run_id
  JOIN repositories p ON p.id = a.repository_id
  JOIN jobs j ON j.id = a.job_id
  LEFT JOIN nodes n ON n.id = a.node_id
 WHERE a.id = $1 AND a.state = 'finalized'`;

/** A verdict reached by comparing independent builds (corroboration/evaluate.ts). */
export interface Verdict {
  status: CorroborationStatus;
  builders: Array<{
    node: string;
    operator: string | null;
    trusted: boolean;
    agreed: boolean;
    sha256?: string;
  }>;
}

export interface Attestation {
  status: CorroborationStatus;
  keyid: string;
  envelope: Envelope;
}

/**
 * Decides the status of a single build (or takes the verdict of independent builds), signs its
 * provenance and stores both.
 */
export async function attestArtifact(
  db: Db,
  kms: Kms,
  publicUrl: string,
  artifactId: number,
  version = "0.1.0",
  verdict?: Verdict,
): Promise<Attestation> {
  const { rows } = await db.query<Facts>(FACTS, [artifactId]);
  const f = rows[0];
  if (!f) throw new AirlockError(ErrorCode.NOT_FOUND, `no finalized artifact ${artifactId}`);
  const trusted = f.worker_trust === "trusted";
  const status: CorroborationStatus = verdict?.status ?? (trusted ? "trusted" : "unverified");
  const runId = Number(f.run_id);
  const signed = await signProvenance(db, kms, Number(f.organization_id), {
    subjects: [{ name: `${f.name}.zip`, sha256: f.sha256 }],
    builderId: builderIdOf(publicUrl, f.trust_tier),
    builderVersion: { airlock: version },
    source: { repository: f.repository, ref: f.ref, commit: f.commit, ...sourceUrl(f.clone_url) },
    workflow: { path: f.workflow_file, job: f.job_name },
    run: { id: runId, attempt: f.run_attempt, trustTier: f.trust_tier },
    invocationId: invocationIdOf(publicUrl, runId, f.run_attempt),
    startedOn: f.started_at ?? f.finished_at,
    finishedOn: f.finished_at,
    actions: pinnedActions(f.actions),
    builders:
      verdict?.builders ??
      (f.node === null
        ? []
        : [{ node: f.node, operator: f.operator, trusted, agreed: true, sha256: f.sha256 }]),
    corroboration: status,
  });
  await db.query(`UPDATE artifacts SET status = $2 WHERE id = $1`, [artifactId, status]);
  await db.query(
    `INSERT INTO artifact_provenance (artifact_id, keyid, envelope) VALUES ($1, $2, $3)
     ON CONFLICT (artifact_id) DO UPDATE SET keyid = EXCLUDED.keyid, envelope = EXCLUDED.envelope,
       created_at = now()`,
    [artifactId, signed.keyid, JSON.stringify(signed.envelope)],
  );
  return { status, keyid: signed.keyid, envelope: signed.envelope };
}

/** The stored provenance of an artifact, in the file form `airlock verify` reads; undefined: none. */
export async function provenanceFile(db: Db, artifactId: number): Promise<string | undefined> {
  const { rows } = await db.query<{ envelope: Envelope }>(
    `SELECT envelope FROM artifact_provenance WHERE artifact_id = $1`,
    [artifactId],
  );
  return rows[0] ? envelopeFile(rows[0].envelope) : undefined;
}
