// The GitHub cache service v2 in domain terms: what CreateCacheEntry, FinalizeCacheEntryUpload and
// GetCacheEntryDownloadURL do, and what a signed cache blob URL allows, for a caller already known
// (a live job attempt, by the same ACTIONS_RUNTIME_TOKEN the artifact service takes). No HTTP here:
// src/server/routes/caches-*.ts map it. Tokens, signed URLs and block uploads are the artifact
// service's (src/artifacts); the bytes go to a blob store of the cache's own.
import type { Readable } from "node:stream";
import {
  CACHE_BLOBS,
  callerOf,
  commitBlocks,
  commitWhole,
  hasStagedBlocks,
  inTransaction,
  grantCaller,
  liveCaller,
  releaseBlob,
  signBlobUrl,
  stageBlock,
  verifyBlobUrl,
  type BlobOp,
  type BlobRead,
  type BlobStore,
  type ByteRange,
  type Caller,
  type Db,
  type ServiceKeys,
  type UploadKind,
} from "../artifacts/index.js";
import { AirlockError, ErrorCode } from "../errors/index.js";
import {
  checkKey,
  checkVersion,
  entryById,
  entryIn,
  insertEntry,
  lookup,
  lruEntries,
  markFinalized,
  type CacheEntry,
} from "./records.js";
import { runScopes, sameScope, seesWorker } from "./scope.js";

export const CACHE_UPLOADS: UploadKind = {
  rows: "cache_entries",
  blocks: "cache_upload_blocks",
  owner: "entry_id",
  prefix: "cache",
  lock: 0x63616368, // "cach"
};
/** pg_advisory_xact_lock(QUOTA_LOCK, repository id * 2 + tier): one finalization per quota at a time. */
const QUOTA_LOCK = 0x63717561; // "cqua"

export interface CacheServiceOptions {
  db: Db;
  /** A store of the cache's own, never the artifacts' one: a blob is released when no cache entry names it. */
  store: BlobStore;
  /** The artifact service's keys: the same runtime tokens, signed URLs told apart by CACHE_BLOBS. */
  keys: ServiceKeys;
  /** Base of the signed blob URLs (the orchestrator's public URL). */
  publicUrl: string;
  /** Bytes of finalized entries a repository keeps per trust tier (GitHub: 10 GiB a repository). */
  quotaBytes?: number;
  maxBlockBytes?: number;
  now?: () => Date;
}

export class CacheService {
  private readonly o: Required<Omit<CacheServiceOptions, "now">> & { now: () => Date };

  constructor(o: CacheServiceOptions) {
    this.o = { quotaBytes: 10 * 1024 ** 3, maxBlockBytes: 256 * 1024 ** 2, now: () => new Date(), ...o };
  }

  /** The live job attempt behind a runtime token (UNAUTHORIZED otherwise). */
  caller(token: string | undefined): Promise<Caller> {
    return callerOf(this.o.db, this.o.keys, token);
  }

  private url(c: Caller, op: BlobOp, entryId: number): string {
    const g = { op, artifactId: entryId, jobId: c.jobId, attempt: c.attempt, nodeId: c.nodeId ?? 0 };
    return signBlobUrl(this.o.keys, this.o.publicUrl, g, this.o.now(), CACHE_BLOBS);
  }

  /** CreateCacheEntry: reserve (key, version) in the caller's write scope; CONFLICT once it exists. */
  async create(
    c: Caller,
    r: { key: string; version: string },
  ): Promise<{ entry: CacheEntry; uploadUrl: string }> {
    const key = checkKey(r.key);
    const version = checkVersion(r.version);
    // A rebuild for corroboration is independent of caches both ways (docs/integrity.md): what it
    // would save is the job's own to save, and what it restored could carry what it checks.
    if (c.replicaOf !== undefined)
      throw new AirlockError(ErrorCode.CONFLICT, `cache entry "${key}" not saved: a rebuild saves no caches`);
    const { repositoryId, write } = await runScopes(this.o.db, c);
    // Each worker trust has its own slot of a key (migration 041): an untrusted worker saving first
    // cannot keep trusted workers' jobs from ever having the key. The other way it is refused as
    // GitHub would: a trusted worker's finalized entry is already there for everyone.
    if (c.workerTrust === "untrusted") {
      const trusted = await entryIn(this.o.db, repositoryId, write, key, version, "trusted");
      if (trusted?.state === "finalized")
        throw new AirlockError(ErrorCode.CONFLICT, `cache entry "${key}" already exists`);
    }
    for (let tries = 0; tries < 2; tries++) {
      const made = await insertEntry(this.o.db, c, write, key, version);
      if (made) return { entry: made, uploadUrl: this.url(c, "upload", made.id) };
      const held = await entryIn(this.o.db, repositoryId, write, key, version, c.workerTrust);
      if (!held) continue;
      if (held.state === "uploading" && held.jobId === c.jobId && held.jobAttempt === c.attempt)
        return { entry: held, uploadUrl: this.url(c, "upload", held.id) };
      // An upload whose job attempt ended without finalizing holds nothing: take it over.
      const stale =
        held.state === "uploading" &&
        (held.jobId === null || !(await liveCaller(this.o.db, held.jobId, held.jobAttempt)));
      if (!stale) break;
      await this.remove([held]);
    }
    throw new AirlockError(ErrorCode.CONFLICT, `cache entry "${key}" already exists or is being saved`);
  }

  /** FinalizeCacheEntryUpload: the declared size must be what was stored; then the quota is kept. */
  async finalize(c: Caller, r: { key: string; version: string; sizeBytes: number }): Promise<CacheEntry> {
    const key = checkKey(r.key);
    const version = checkVersion(r.version);
    const { repositoryId, write } = await runScopes(this.o.db, c);
    const e = await entryIn(this.o.db, repositoryId, write, key, version, c.workerTrust);
    if (!e || e.jobId !== c.jobId || e.jobAttempt !== c.attempt)
      throw new AirlockError(ErrorCode.NOT_FOUND, `no upload of cache entry "${key}" by this job attempt`);
    if (e.state === "finalized") return e;
    if (e.sha256 === null || e.size === null)
      throw new AirlockError(ErrorCode.CONFLICT, `cache entry "${key}" has no uploaded bytes yet`);
    if (r.sizeBytes !== e.size) {
      await this.remove([e]);
      throw new AirlockError(
        ErrorCode.ARTIFACT_DIGEST_MISMATCH,
        `cache entry "${key}": the declared size ${r.sizeBytes} is not the ${e.size} bytes received`,
      );
    }
    if (e.size > this.o.quotaBytes) {
      await this.remove([e]);
      throw new AirlockError(
        ErrorCode.ARTIFACT_TOO_LARGE,
        `cache entry "${key}" (${e.size} bytes) is larger than the repository's cache quota (${this.o.quotaBytes} bytes)`,
      );
    }
    const evicted = await inTransaction(this.o.db, async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock($1, $2)`, [
        QUOTA_LOCK,
        (repositoryId * 2 + (e.tier === "trusted" ? 0 : 1)) | 0,
      ]);
      const kept = await lruEntries(tx, repositoryId, e.tier);
      let used = kept.reduce((n, x) => n + (x.size ?? 0), 0) + e.size!;
      const victims: CacheEntry[] = [];
      for (const x of kept) {
        if (used <= this.o.quotaBytes) break;
        victims.push(x);
        used -= x.size ?? 0;
      }
      if (victims.length > 0)
        await tx.query(`DELETE FROM cache_entries WHERE id = ANY($1::bigint[])`, [victims.map((v) => v.id)]);
      if (!(await markFinalized(tx, e.id)))
        throw new AirlockError(ErrorCode.CONFLICT, `cache entry "${key}" is no longer being uploaded`);
      return victims;
    });
    await this.releaseAll(evicted);
    return (await entryById(this.o.db, e.id))!;
  }

  /**
   * GetCacheEntryDownloadURL: the best match in the caller's read scopes among the entries its
   * worker may restore, or undefined (a miss).
   */
  async downloadUrl(
    c: Caller,
    r: { key: string; restoreKeys: string[]; version: string },
  ): Promise<{ entry: CacheEntry; url: string } | undefined> {
    const keys = [r.key, ...r.restoreKeys].map(checkKey);
    if (keys.length > 10) throw new AirlockError(ErrorCode.ARTIFACT_INVALID, "at most 10 keys");
    const version = checkVersion(r.version);
    // A rebuild restores nothing: a cache the checked build saved could hand it the same bytes.
    if (c.replicaOf !== undefined) return undefined;
    const { repositoryId, read } = await runScopes(this.o.db, c);
    // A job on a trusted worker restores only what trusted workers saved (migration 041).
    const entry = await lookup(this.o.db, repositoryId, read, keys, version, c.workerTrust === "trusted");
    return entry && { entry, url: this.url(c, "download", entry.id) };
  }

  /** A signed URL's grant: right signature, live attempt, and the entry still its to write or read. */
  async grant(entryId: number, query: Record<string, unknown>, op: BlobOp): Promise<CacheEntry> {
    const g = verifyBlobUrl(this.o.keys, entryId, query, this.o.now(), CACHE_BLOBS);
    if (g.op !== op) throw new AirlockError(ErrorCode.UNAUTHORIZED, `signed URL refused: not an ${op} URL`);
    const c = await grantCaller(this.o.db, g);
    if (!c) throw new AirlockError(ErrorCode.UNAUTHORIZED, "signed URL refused: its job attempt has ended");
    const e = await entryById(this.o.db, entryId);
    if (!e || e.repositoryId !== c.repositoryId)
      throw new AirlockError(ErrorCode.NOT_FOUND, "no such cache entry");
    if (op === "upload" && (e.jobId !== c.jobId || e.jobAttempt !== c.attempt || e.state !== "uploading"))
      throw new AirlockError(ErrorCode.CONFLICT, "the cache entry is not being saved by this job attempt");
    if (op === "download") {
      const { read } = await runScopes(this.o.db, c);
      if (e.state !== "finalized" || !read.some((s) => sameScope(s, e)) || !seesWorker(c, e.workerTrust))
        throw new AirlockError(ErrorCode.NOT_FOUND, "no such cache entry");
    }
    return e;
  }

  stageBlock(e: CacheEntry, blockId: string, body: Readable): Promise<unknown> {
    return stageBlock(this.o.db, this.o.store, CACHE_UPLOADS, e.id, blockId, body, this.o.maxBlockBytes);
  }

  async commitBlockList(e: CacheEntry, ids: string[]): Promise<void> {
    if (e.sha256 !== null && !(await hasStagedBlocks(this.o.db, CACHE_UPLOADS, e.id))) return;
    const info = await commitBlocks(this.o.db, this.o.store, CACHE_UPLOADS, e.id, ids, this.o.quotaBytes);
    if (e.sha256 !== null && e.sha256 !== info.sha256)
      await releaseBlob(this.o.db, this.o.store, CACHE_UPLOADS, e.sha256);
  }

  /** Put Blob: the whole archive in one request (what uploadFile sends up to 128 MiB). */
  async putWhole(e: CacheEntry, body: Readable): Promise<void> {
    const info = await commitWhole(this.o.db, this.o.store, CACHE_UPLOADS, e.id, body, this.o.quotaBytes);
    if (e.sha256 !== null && e.sha256 !== info.sha256)
      await releaseBlob(this.o.db, this.o.store, CACHE_UPLOADS, e.sha256);
  }

  open(e: CacheEntry, range?: ByteRange): Promise<BlobRead> {
    if (e.sha256 === null) throw new AirlockError(ErrorCode.NOT_FOUND, "no such cache entry");
    return this.o.store.get(e.sha256, range);
  }

  private async remove(entries: CacheEntry[]): Promise<void> {
    await this.o.db.query(`DELETE FROM cache_entries WHERE id = ANY($1::bigint[])`, [
      entries.map((e) => e.id),
    ]);
    await this.releaseAll(entries);
  }

  private async releaseAll(entries: CacheEntry[]): Promise<void> {
    for (const e of entries) {
      await this.o.store.deleteUpload(`${CACHE_UPLOADS.prefix}-${e.id}`);
      if (e.sha256 !== null) await releaseBlob(this.o.db, this.o.store, CACHE_UPLOADS, e.sha256);
    }
  }
}
