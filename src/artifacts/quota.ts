// Per-repository quota of finalized artifact bytes (issue 13, item 1): checked at CreateArtifact
// (already at or over: refused before anything is stored), at the block list commit (the staged
// blocks would pass it: refused before they are concatenated) and, authoritatively, at finalize,
// where the sum and the state change happen under a per-repository advisory lock, so two uploads
// finishing together cannot both slip under the quota. A refused upload is removed whole by the
// service (row, staged parts, blob when no other row names it): nothing stays half-stored.
import { AirlockError, ErrorCode } from "../errors/index.js";
import { inTransaction, type Db } from "./db.js";
import { quotaExceeded, quotaOf, repositoryUsage } from "./policy.js";
import { markFinalized, type ArtifactRecord } from "./records.js";

/** pg_advisory_xact_lock(QUOTA_LOCK, repository id): finalizes of one repository, one at a time. */
const QUOTA_LOCK = 0x71756f74; // "quot"

/** Refuses (ARTIFACT_QUOTA_EXCEEDED) when `adding` more bytes would pass the repository's quota. */
export async function checkRoom(
  db: Db,
  repositoryId: number,
  name: string,
  adding: number,
  serverQuota: number,
): Promise<void> {
  const quota = await quotaOf(db, repositoryId, serverQuota);
  const used = await repositoryUsage(db, repositoryId);
  if (adding === 0 ? used >= quota : used + adding > quota) throw quotaExceeded(name, used, adding, quota);
}

/** The bytes of the named staged blocks (what a block list commit is about to write). */
export async function stagedBytes(db: Db, artifactId: number, ids: string[]): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    `SELECT coalesce(sum(size), 0) AS n FROM artifact_upload_blocks
      WHERE artifact_id = $1 AND block_id = ANY($2::text[])`,
    [artifactId, ids],
  );
  return Number(rows[0]?.n ?? 0);
}

/**
 * uploading -> finalized when the artifact fits within the quota. ARTIFACT_QUOTA_EXCEEDED (nothing
 * changed) when it does not; CONFLICT when the row is no longer uploading.
 */
export async function finalizeWithinQuota(db: Db, a: ArtifactRecord, serverQuota: number): Promise<void> {
  await inTransaction(db, async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock($1, hashtext($2::text))`, [
      QUOTA_LOCK,
      String(a.repositoryId),
    ]);
    await checkRoom(tx, a.repositoryId, a.name, a.size ?? 0, serverQuota);
    if (!(await markFinalized(tx, a.id)))
      throw new AirlockError(ErrorCode.CONFLICT, `"${a.name}" is no longer being uploaded`);
  });
}
