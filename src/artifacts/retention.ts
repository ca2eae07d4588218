// Retention (issue 13, item 1): one sweep deletes the artifacts past their expires_at and the
// uploads never finalized for longer than the stale-upload age, with their staged parts; a blob
// goes only when no remaining row names it (releaseBlob, under the blob's advisory lock, so an
// upload committing the same bytes meanwhile keeps it). The orchestrator runs it on a timer
// (src/service wires a Loop); tests call it once with a clock. Idempotent: a second sweep at the
// same time finds nothing. Each row is deleted with `RETURNING`, so two sweeps never both count it.
import { ARTIFACT_UPLOADS as U, releaseBlob, uploadKey } from "./blocks.js";
import type { Db } from "./db.js";
import type { BlobStore } from "./store/index.js";

export interface SweepOptions {
  /** The time compared with expires_at and upload ages. */
  now: Date;
  /** Uploads (state uploading) older than this are abandoned: removed with their staged parts. */
  staleUploadMs: number;
  /** Rows handled per sweep (the rest wait for the next one). */
  batch?: number;
}

export interface SweepResult {
  expired: number;
  staleUploads: number;
  blobsDeleted: number;
}

export async function sweepArtifacts(db: Db, store: BlobStore, o: SweepOptions): Promise<SweepResult> {
  const batch = o.batch ?? 500;
  const expired = await db.query<{ id: string; sha256: string | null }>(
    `DELETE FROM artifacts WHERE id IN (
       SELECT id FROM artifacts WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2
     ) RETURNING id, sha256`,
    [o.now, batch],
  );
  const stale = await db.query<{ id: string; sha256: string | null }>(
    `DELETE FROM artifacts WHERE id IN (
       SELECT id FROM artifacts WHERE state = 'uploading' AND created_at <= $1 ORDER BY created_at LIMIT $2
     ) RETURNING id, sha256`,
    [new Date(o.now.getTime() - o.staleUploadMs), batch],
  );
  const gone = [...expired.rows, ...stale.rows];
  // Staged parts of uploads that never committed (their rows cascade; the files are the store's).
  for (const r of gone) await store.deleteUpload(uploadKey(U, Number(r.id)));
  let blobsDeleted = 0;
  for (const sha of new Set(gone.flatMap((r) => (r.sha256 === null ? [] : [r.sha256]))))
    if (await releaseBlob(db, store, U, sha)) blobsDeleted++;
  return { expired: expired.rows.length, staleUploads: stale.rows.length, blobsDeleted };
}
