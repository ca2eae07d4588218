// Uploads in blocks, as Azure block blobs (what `@actions/artifact` and `@actions/cache` speak through
// @azure/storage-blob's BlockBlobClient): each block is staged on its own (PUT
// ?comp=block&blockid=…, in any order, concurrently), then the block list (PUT ?comp=blocklist)
// names the blocks in order and the store concatenates them, streaming, into one content-addressed
// blob whose digest it computes. A small upload may come whole instead (Put Blob: a PUT without
// comp, what uploadFile sends below its single-shot size). Blocks stay staged until the blob is
// recorded, so a failed commit can be retried. A blob is deleted only when no row names it (under a
// per-digest advisory lock, the same the commit takes), so two rows with the same bytes never lose
// each other's blob. Artifacts and cache entries share this code, each with its own tables
// (UploadKind) and its own blob store.
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { AirlockError, ErrorCode } from "../errors/index.js";
import { inTransaction, type Db } from "./db.js";
import type { BlobInfo, BlobStore, Source } from "./store/index.js";

/** Azure's limits: 50,000 blocks, ids of at most 64 bytes (base64 here, so ≤ 88 characters). */
export const MAX_BLOCKS = 50_000;
const BLOCK_ID = /^[A-Za-z0-9+/=_-]{1,88}$/;
/** The block list body: 50,000 ids of ≤ 88 characters in tags fit well within this. */
export const MAX_BLOCK_LIST_BYTES = 8 * 1024 * 1024;

/**
 * The tables of one kind of upload: `rows` has id, state ('uploading' while open), sha256, size and
 * committed_at; `blocks` has (<owner>, block_id, size, sha256, staged_at). Constants, never input.
 */
export interface UploadKind {
  rows: "artifacts" | "cache_entries";
  blocks: "artifact_upload_blocks" | "cache_upload_blocks";
  owner: "artifact_id" | "entry_id";
  /** The store's upload name prefix. */
  prefix: "artifact" | "cache";
  /** pg_advisory_xact_lock(lock, hashtext(sha256)): record vs delete of one blob. */
  lock: number;
}

export const ARTIFACT_UPLOADS: UploadKind = {
  rows: "artifacts",
  blocks: "artifact_upload_blocks",
  owner: "artifact_id",
  prefix: "artifact",
  lock: 0x61727466, // "artf"
};

export const uploadKey = (u: UploadKind, id: number): string => `${u.prefix}-${id}`;
/** A block's part name: the hash of its id (ids are client-chosen text). */
const partName = (blockId: string): string => createHash("sha256").update(blockId).digest("hex");

export function checkBlockId(id: unknown): string {
  if (typeof id !== "string" || !BLOCK_ID.test(id))
    throw new AirlockError(ErrorCode.ARTIFACT_INVALID, "a block id is 1-88 base64 characters");
  return id;
}

export async function stageBlock(
  db: Db,
  store: BlobStore,
  u: UploadKind,
  id: number,
  blockId: string,
  body: Readable,
  maxBytes: number,
): Promise<BlobInfo> {
  const { rows } = await db.query<{ n: string }>(
    `SELECT count(*) AS n FROM ${u.blocks} WHERE ${u.owner} = $1`,
    [id],
  );
  if (Number(rows[0]?.n ?? 0) >= MAX_BLOCKS)
    throw new AirlockError(ErrorCode.ARTIFACT_TOO_LARGE, `an upload has at most ${MAX_BLOCKS} blocks`);
  const info = await store.putPart(uploadKey(u, id), partName(blockId), body, { maxBytes });
  await db.query(
    `INSERT INTO ${u.blocks} (${u.owner}, block_id, size, sha256) VALUES ($1, $2, $3, $4)
     ON CONFLICT (${u.owner}, block_id) DO UPDATE SET size = EXCLUDED.size, sha256 = EXCLUDED.sha256, staged_at = now()`,
    [id, blockId, info.size, info.sha256],
  );
  return info;
}

export async function hasStagedBlocks(db: Db, u: UploadKind, id: number): Promise<boolean> {
  const { rows } = await db.query(`SELECT 1 FROM ${u.blocks} WHERE ${u.owner} = $1 LIMIT 1`, [id]);
  return rows.length > 0;
}

/** The block ids of a `<BlockList>` body, in order (Latest, Committed and Uncommitted alike). */
export function parseBlockList(xml: string): string[] {
  if (!/<BlockList>[\s\S]*<\/BlockList>/.test(xml))
    throw new AirlockError(ErrorCode.ARTIFACT_INVALID, "the block list is not a <BlockList> document");
  const ids: string[] = [];
  for (const m of xml.matchAll(/<(Latest|Committed|Uncommitted)>([^<]*)<\/\1>/g))
    ids.push(checkBlockId(m[2]));
  return ids;
}

/**
 * Concatenates the named staged blocks into a blob and records its digest on the row (still
 * uploading). Returns the blob's digest and size. The staged blocks go once it is recorded.
 */
export async function commitBlocks(
  db: Db,
  store: BlobStore,
  u: UploadKind,
  id: number,
  ids: string[],
  maxBytes: number,
): Promise<BlobInfo> {
  const { rows } = await db.query<{ block_id: string }>(
    `SELECT block_id FROM ${u.blocks} WHERE ${u.owner} = $1 AND block_id = ANY($2::text[])`,
    [id, ids],
  );
  const staged = new Set(rows.map((r) => r.block_id));
  const absent = ids.find((b) => !staged.has(b));
  if (absent !== undefined)
    throw new AirlockError(ErrorCode.ARTIFACT_INVALID, `block ${absent} of the block list was never staged`);
  const info = await store.commitUpload(uploadKey(u, id), ids.map(partName), { maxBytes });
  return recordCommitted(db, store, u, id, info);
}

/** Put Blob: the whole upload in one body, written and recorded as a committed block list would be. */
export async function commitWhole(
  db: Db,
  store: BlobStore,
  u: UploadKind,
  id: number,
  body: Source,
  maxBytes: number,
): Promise<BlobInfo> {
  return recordCommitted(db, store, u, id, await store.put(body, { maxBytes }));
}

/** Records the committed blob on the upload's row and drops its staged blocks. */
async function recordCommitted(
  db: Db,
  store: BlobStore,
  u: UploadKind,
  id: number,
  info: BlobInfo,
): Promise<BlobInfo> {
  await inTransaction(db, async (c) => {
    await c.query(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, [u.lock, info.sha256]);
    // A concurrent release may have removed the same bytes between our write and this lock.
    if (!(await store.has(info.sha256)))
      throw new AirlockError(ErrorCode.BLOB_NOT_FOUND, "the blob vanished while committing; retry", {
        retryable: true,
      });
    const done = await c.query(
      `UPDATE ${u.rows} SET sha256 = $2, size = $3, committed_at = now() WHERE id = $1 AND state = 'uploading'`,
      [id, info.sha256, info.size],
    );
    if (done.rowCount !== 1) throw new AirlockError(ErrorCode.CONFLICT, "the upload is no longer open");
    await c.query(`DELETE FROM ${u.blocks} WHERE ${u.owner} = $1`, [id]);
  });
  await store.deleteUpload(uploadKey(u, id));
  return info;
}

/** Deletes the blob when no row of that kind names it any more. */
export async function releaseBlob(db: Db, store: BlobStore, u: UploadKind, sha256: string): Promise<boolean> {
  return inTransaction(db, async (c) => {
    await c.query(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, [u.lock, sha256]);
    const { rows } = await c.query(`SELECT 1 FROM ${u.rows} WHERE sha256 = $1 LIMIT 1`, [sha256]);
    return rows.length === 0 ? store.delete(sha256) : false;
  });
}
