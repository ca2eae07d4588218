// The promotion gate (issue 13, item 8): an artifact is marked releasable (promoted_at,
// promoted_by) only when the repository's policy allows its status (never `mismatch`) and its
// run's trust tier (untrusted runs only with allowUntrustedRuns). The HTTP route audits both
// outcomes; the decision itself is here, from the control plane's records, never the caller's word.
import { AirlockError, ErrorCode } from "../errors/index.js";
import type { Db } from "./db.js";
import { artifactPolicy, promotionRefusal } from "./policy.js";
import { artifactById, markPromoted, type ArtifactRecord } from "./records.js";

export interface Promotion {
  artifact: ArtifactRecord;
  /** False when it had been promoted before (promoting again changes nothing). */
  changed: boolean;
}

/**
 * Promotes a finalized artifact of the run for `by` (a display name for the record).
 * NOT_FOUND when the run has no such artifact; ARTIFACT_NOT_PROMOTABLE (one line) when the policy
 * refuses it, with details { artifactId, status, trustTier } for the audit log.
 */
export async function promoteArtifact(
  db: Db,
  runId: number,
  artifactId: number,
  by: string,
): Promise<Promotion> {
  const a = await artifactById(db, artifactId);
  if (!a || a.runId !== runId || a.state !== "finalized")
    throw new AirlockError(ErrorCode.NOT_FOUND, `run ${runId} has no artifact ${artifactId}`);
  const why = promotionRefusal(a, await artifactPolicy(db, a.repositoryId));
  if (why !== undefined)
    throw new AirlockError(ErrorCode.ARTIFACT_NOT_PROMOTABLE, why, {
      details: { artifactId: a.id, status: a.status, trustTier: a.trustTier },
    });
  if (a.promotedAt !== null) return { artifact: a, changed: false };
  const changed = await markPromoted(db, a.id, by);
  return { artifact: (await artifactById(db, a.id))!, changed };
}
