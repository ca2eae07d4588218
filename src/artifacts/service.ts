// The artifact service v4 in domain terms: what the twirp methods and the signed blob URLs do, for a
// caller already known (a live job attempt). No HTTP here: src/server/routes/artifacts-*.ts map it.
// Every call names its run by the backend id in the caller's token; a request body naming another
// run gets NOT_FOUND, never another run's artifacts.
import type { Readable } from "node:stream";
import { AirlockError, ErrorCode } from "../errors/index.js";
import { provenanceFile } from "./attest.js";
import { runMismatches } from "./corroboration/index.js";
import {
  ARTIFACT_UPLOADS as U,
  commitBlocks,
  hasStagedBlocks,
  releaseBlob,
  stageBlock,
  uploadKey,
} from "./blocks.js";
import type { Db } from "./db.js";
import {
  artifactPolicy,
  promotionRefusal,
  setArtifactPolicy,
  repositoryUsage,
  type ArtifactPolicy,
} from "./policy.js";
import { promoteArtifact, type Promotion } from "./promote.js";
import { checkRoom, finalizeWithinQuota, stagedBytes } from "./quota.js";
import {
  artifactById,
  checkArtifactName,
  insertArtifact,
  ownArtifact,
  runArtifacts,
  visibleArtifacts,
  type ArtifactRecord,
} from "./records.js";
import { callerOf, grantCaller, mintRuntimeToken, type Caller, type ServiceKeys } from "./runtime-token.js";
import { sweepArtifacts, type SweepResult } from "./retention.js";
import { signBlobUrl, verifyBlobUrl, type BlobOp, type SignedGrant } from "./signed-url.js";
import type { BlobRead, BlobStore, ByteRange } from "./store/index.js";

export interface ArtifactServiceOptions {
  db: Db;
  store: BlobStore;
  keys: ServiceKeys;
  /** Base of the signed blob URLs (the orchestrator's public URL). */
  publicUrl: string;
  /** Days an artifact is kept when the client asks for nothing shorter (GitHub's default: 90). */
  retentionDays?: number;
  /** Largest artifact and largest block, in bytes. */
  maxArtifactBytes?: number;
  maxBlockBytes?: number;
  /** A repository's finalized artifact bytes when its policy sets no quota of its own (10 GiB). */
  quotaBytes?: number;
  /** Hours after which an upload never finalized is removed by the sweep (24). */
  staleUploadHours?: number;
  now?: () => Date;
  /**
   * Called once an artifact is finalized: its status and signed provenance (attest.ts). Its errors
   * are its own to report; the upload stands either way (the artifact stays unverified).
   */
  attest?: (artifactId: number) => Promise<void>;
}

const DAY = 86_400_000;

/**
 * Whether the caller is a deployment, as its refusals name it: a job with an `environment:`, or a
 * job the orchestrator placed on a node of a deploy pool (migration 040). Undefined: neither.
 */
function deployment(c: Caller): string | undefined {
  if (c.environment !== undefined) return `deployment to ${c.environment}`;
  if (c.deployPool !== undefined) return `deployment in pool ${c.deployPool}`;
  return undefined;
}

export class ArtifactService {
  private readonly o: Required<Omit<ArtifactServiceOptions, "now" | "attest">> & {
    now: () => Date;
    attest?: (artifactId: number) => Promise<void>;
  };

  constructor(o: ArtifactServiceOptions) {
    this.o = {
      retentionDays: 90,
      maxArtifactBytes: 10 * 1024 ** 3,
      maxBlockBytes: 256 * 1024 ** 2,
      quotaBytes: 10 * 1024 ** 3,
      staleUploadHours: 24,
      now: () => new Date(),
      ...o,
    };
  }

  /** ACTIONS_RUNTIME_TOKEN for a live job attempt (the dispatcher, at assignment). */
  mintRuntimeToken(jobId: number, attempt: number): Promise<string> {
    return mintRuntimeToken(this.o.db, this.o.keys, jobId, attempt, this.o.now());
  }

  /** The live job attempt behind a runtime token (UNAUTHORIZED otherwise). */
  caller(token: string | undefined): Promise<Caller> {
    return callerOf(this.o.db, this.o.keys, token);
  }

  private sameRun(c: Caller, runBackendId: string): void {
    if (runBackendId !== c.runBackendId)
      throw new AirlockError(ErrorCode.NOT_FOUND, "no such workflow run for this runtime token");
  }

  private url(c: Caller, op: BlobOp, artifactId: number): string {
    return signBlobUrl(
      this.o.keys,
      this.o.publicUrl,
      { op, artifactId, jobId: c.jobId, attempt: c.attempt, nodeId: c.nodeId ?? 0 },
      this.o.now(),
    );
  }

  async create(
    c: Caller,
    r: { runBackendId: string; jobBackendId: string; name: string; mimeType?: string; expiresAt?: Date },
  ): Promise<{ artifact: ArtifactRecord; uploadUrl: string }> {
    this.sameRun(c, r.runBackendId);
    if (r.jobBackendId !== c.jobBackendId)
      throw new AirlockError(ErrorCode.FORBIDDEN, "a job uploads artifacts as itself only");
    checkArtifactName(r.name);
    if (c.replicaOf !== undefined) {
      // A rebuild uploads only what the job it rebuilds uploaded: nothing else is compared.
      const { rowCount } = await this.o.db.query(
        `SELECT 1 FROM artifacts WHERE job_id = $1 AND name = $2 AND replica_of IS NULL AND state = 'finalized'`,
        [c.replicaOf, r.name],
      );
      if (!rowCount)
        throw new AirlockError(
          ErrorCode.CONFLICT,
          `a rebuild uploads only the artifacts its job uploaded; "${r.name}" is not one of them`,
        );
    }
    // A repository at its quota gets nothing new (before anything, even a retry's cleanup, changes).
    await checkRoom(this.o.db, c.repositoryId, r.name, 0, this.o.quotaBytes);
    // A retry of the same job on another node (its delivery attempt) replaces what the lost one began.
    const prior = await ownArtifact(this.o.db, c, r.name);
    if (prior && prior.jobId === c.jobId && prior.jobAttempt < c.attempt) await this.remove(prior);
    const now = this.o.now().getTime();
    const longest = now + this.o.retentionDays * DAY;
    const asked = r.expiresAt?.getTime();
    const expiresAt = new Date(asked !== undefined && asked > now && asked < longest ? asked : longest);
    const mimeType = r.mimeType && /^[\w.+-]+\/[\w.+-]+$/.test(r.mimeType) ? r.mimeType : "application/zip";
    const artifact = await insertArtifact(this.o.db, c, { name: r.name, mimeType, expiresAt });
    return { artifact, uploadUrl: this.url(c, "upload", artifact.id) };
  }

  /** Finalize: the client's size and digest must be what the store computed over the committed blob. */
  async finalize(
    c: Caller,
    r: { runBackendId: string; jobBackendId: string; name: string; size: number; hash?: string },
  ): Promise<ArtifactRecord> {
    this.sameRun(c, r.runBackendId);
    const a = await ownArtifact(this.o.db, c, r.name);
    if (!a || a.jobId !== c.jobId || a.jobAttempt !== c.attempt)
      throw new AirlockError(ErrorCode.NOT_FOUND, `no upload of "${r.name}" by this job attempt`);
    if (a.state === "finalized") return a;
    if (a.sha256 === null || a.size === null)
      throw new AirlockError(ErrorCode.CONFLICT, `"${r.name}" has no committed block list yet`);
    const declared = r.hash?.replace(/^sha256:/, "").toLowerCase();
    if (r.size !== a.size || (declared !== undefined && declared !== a.sha256))
      throw new AirlockError(
        ErrorCode.ARTIFACT_DIGEST_MISMATCH,
        `"${r.name}": the declared size or sha256 is not what the server received (${a.size} bytes, sha256:${a.sha256})`,
      );
    try {
      await finalizeWithinQuota(this.o.db, a, this.o.quotaBytes);
    } catch (err) {
      if (err instanceof AirlockError && err.code === ErrorCode.ARTIFACT_QUOTA_EXCEEDED) await this.remove(a);
      throw err;
    }
    // A replica's build gets its verdict with the job's own artifacts (corroboration), not alone.
    if (a.replicaOf === null) await this.o.attest?.(a.id).catch(() => undefined);
    return (await artifactById(this.o.db, a.id))!;
  }

  async list(c: Caller, r: { runBackendId: string; name?: string; id?: number }): Promise<ArtifactRecord[]> {
    this.sameRun(c, r.runBackendId);
    const all = await visibleArtifacts(this.o.db, c, { name: r.name, id: r.id });
    if (deployment(c) === undefined) return all;
    // A deployment sees only what the promotion gate lets it consume. Asked for one by name (the
    // toolkit's getArtifact, before a download), it is told why rather than "not found".
    if (r.name !== undefined && all.length > 0) for (const a of all) await this.consumable(c, a);
    const policy = await artifactPolicy(this.o.db, c.repositoryId);
    return all.filter((a) => promotionRefusal(a, policy) === undefined);
  }

  async downloadUrl(c: Caller, r: { runBackendId: string; name: string }): Promise<string> {
    this.sameRun(c, r.runBackendId);
    const [a] = await visibleArtifacts(this.o.db, c, { name: r.name });
    if (!a) throw new AirlockError(ErrorCode.NOT_FOUND, `no artifact named "${r.name}" in this run`);
    await this.consumable(c, a);
    return this.url(c, "download", a.id);
  }

  /** A deployment consumes an artifact only when the gate would promote it. */
  private async consumable(c: Caller, a: ArtifactRecord): Promise<void> {
    const what = deployment(c);
    if (what === undefined) return;
    const why = promotionRefusal(a, await artifactPolicy(this.o.db, c.repositoryId));
    if (why !== undefined)
      throw new AirlockError(ErrorCode.ARTIFACT_NOT_PROMOTABLE, `${what} refused: ${why}`, {
        details: { artifactId: a.id, status: a.status },
      });
  }

  async delete(c: Caller, r: { runBackendId: string; name: string }): Promise<ArtifactRecord> {
    this.sameRun(c, r.runBackendId);
    const a = await ownArtifact(this.o.db, c, r.name);
    if (!a || a.state !== "finalized")
      throw new AirlockError(ErrorCode.NOT_FOUND, `no artifact named "${r.name}" in this run attempt`);
    // Evidence stays: an artifact being (or once) checked by rebuilds, or quarantined.
    const rebuilt = await this.o.db.query(`SELECT 1 FROM jobs WHERE replica_of = $1 LIMIT 1`, [a.jobId]);
    if (a.status === "mismatch" || a.awaitingRebuilds || rebuilt.rowCount)
      throw new AirlockError(
        ErrorCode.CONFLICT,
        `artifact "${r.name}" is checked by independent rebuilds and cannot be deleted by a job`,
      );
    await this.remove(a);
    return a;
  }

  /** The row, its staged parts and its blob (when no other row names it). */
  private async remove(a: ArtifactRecord): Promise<void> {
    const { rows } = await this.o.db.query<{ sha256: string | null }>(
      `DELETE FROM artifacts WHERE id = $1 RETURNING sha256`,
      [a.id],
    );
    await this.o.store.deleteUpload(uploadKey(U, a.id));
    const sha = rows[0]?.sha256 ?? a.sha256;
    if (sha !== null) await releaseBlob(this.o.db, this.o.store, U, sha);
  }

  /** A signed URL's grant, its attempt still live, its artifact existing: or UNAUTHORIZED/NOT_FOUND. */
  async grant(artifactId: number, query: Record<string, unknown>, op: BlobOp): Promise<ArtifactRecord> {
    const g: SignedGrant = verifyBlobUrl(this.o.keys, artifactId, query, this.o.now());
    if (g.op !== op) throw new AirlockError(ErrorCode.UNAUTHORIZED, `signed URL refused: not an ${op} URL`);
    const c = await grantCaller(this.o.db, g);
    if (!c) throw new AirlockError(ErrorCode.UNAUTHORIZED, "signed URL refused: its job attempt has ended");
    const a = await artifactById(this.o.db, artifactId);
    if (!a || a.runId !== c.runId || a.runAttempt > c.runAttempt)
      throw new AirlockError(ErrorCode.NOT_FOUND, "no such artifact");
    if (op === "upload" && (a.jobId !== c.jobId || a.jobAttempt !== c.attempt || a.state !== "uploading"))
      throw new AirlockError(ErrorCode.CONFLICT, "the artifact is not being uploaded by this job attempt");
    // A quarantined artifact (mismatch) is never handed to a job, even by a URL signed before.
    if (op === "download" && (a.state !== "finalized" || a.status === "mismatch" || a.replicaOf !== null))
      throw new AirlockError(ErrorCode.NOT_FOUND, "no such artifact");
    if (op === "download") await this.consumable(c, a);
    return a;
  }

  stageBlock(a: ArtifactRecord, blockId: string, body: Readable): Promise<unknown> {
    return stageBlock(this.o.db, this.o.store, U, a.id, blockId, body, this.o.maxBlockBytes);
  }

  async commitBlockList(a: ArtifactRecord, ids: string[]): Promise<void> {
    // The client's retry of a commit that went through (its answer lost): nothing staged is left.
    if (a.sha256 !== null && !(await hasStagedBlocks(this.o.db, U, a.id))) return;
    // Refused before the blocks are concatenated; the upload is then removed whole.
    try {
      await checkRoom(
        this.o.db,
        a.repositoryId,
        a.name,
        await stagedBytes(this.o.db, a.id, ids),
        this.o.quotaBytes,
      );
    } catch (err) {
      if (err instanceof AirlockError && err.code === ErrorCode.ARTIFACT_QUOTA_EXCEEDED) await this.remove(a);
      throw err;
    }
    let max = this.o.maxArtifactBytes;
    if (a.replicaOf !== null) {
      // A rebuild's upload is compared with its job's, and may differ in size (one flipped byte
      // changes what deflate makes of it): bounded to twice that and a MiB, so another operator's
      // node cannot use it to fill the repository's quota.
      const own = await this.o.db.query<{ size: string }>(
        `SELECT size FROM artifacts WHERE job_id = $1 AND name = $2 AND replica_of IS NULL AND state = 'finalized'`,
        [a.replicaOf, a.name],
      );
      const bound = 2 * (own.rows[0] ? Number(own.rows[0].size) : 0) + 1024 * 1024;
      if ((await stagedBytes(this.o.db, a.id, ids)) > bound) {
        await this.remove(a);
        throw new AirlockError(
          ErrorCode.ARTIFACT_TOO_LARGE,
          `a rebuild may upload at most ${bound} bytes of ${a.name} (twice its job's and 1 MiB)`,
        );
      }
      max = Math.min(max, bound);
    }
    const info = await commitBlocks(this.o.db, this.o.store, U, a.id, ids, max);
    // A second block list (Azure allows one) replaces the first: its blob may now be unnamed.
    if (a.sha256 !== null && a.sha256 !== info.sha256)
      await releaseBlob(this.o.db, this.o.store, U, a.sha256);
  }

  /** A run's finalized artifacts, for the API (the caller's right to read the run is checked there). */
  runArtifacts(runId: number): Promise<ArtifactRecord[]> {
    return runArtifacts(this.o.db, runId);
  }

  /** One finalized artifact of a run, or NOT_FOUND (also for another run's). */
  async runArtifact(runId: number, artifactId: number): Promise<ArtifactRecord> {
    const a = await artifactById(this.o.db, artifactId);
    if (!a || a.runId !== runId || a.state !== "finalized")
      throw new AirlockError(ErrorCode.NOT_FOUND, `run ${runId} has no artifact ${artifactId}`);
    return a;
  }

  /** The signed provenance of a run's artifact, as `airlock verify` reads it; NOT_FOUND when none. */
  async provenance(runId: number, artifactId: number): Promise<string> {
    const a = await this.runArtifact(runId, artifactId);
    const file = await provenanceFile(this.o.db, a.id);
    if (file === undefined)
      throw new AirlockError(ErrorCode.NOT_FOUND, `artifact ${artifactId} has no provenance`);
    return file;
  }

  /** What differed when a run's independent builds disagreed (corroboration/report.ts). */
  mismatches(runId: number): ReturnType<typeof runMismatches> {
    return runMismatches(this.o.db, runId);
  }

  /** One retention pass (retention.ts): expired artifacts and abandoned uploads, at `now`. */
  sweep(now: Date = this.o.now()): Promise<SweepResult> {
    return sweepArtifacts(this.o.db, this.o.store, {
      now,
      staleUploadMs: this.o.staleUploadHours * 3_600_000,
    });
  }

  /** The repository's policy, its quota in force and its finalized bytes. */
  async policy(
    repositoryId: number,
  ): Promise<{ policy: ArtifactPolicy; quotaBytes: number; usedBytes: number }> {
    const policy = await artifactPolicy(this.o.db, repositoryId);
    return {
      policy,
      quotaBytes: policy.quotaBytes ?? this.o.quotaBytes,
      usedBytes: await repositoryUsage(this.o.db, repositoryId),
    };
  }

  /** Replaces the repository's policy; `db`: the route's audited transaction. */
  setPolicy(repositoryId: number, p: ArtifactPolicy, db: Db = this.o.db): Promise<void> {
    return setArtifactPolicy(db, repositoryId, p);
  }

  /** The promotion gate (promote.ts); `db`: the route's audited transaction. */
  promote(runId: number, artifactId: number, by: string, db: Db = this.o.db): Promise<Promotion> {
    return promoteArtifact(db, runId, artifactId, by);
  }

  open(a: ArtifactRecord, range?: ByteRange): Promise<BlobRead> {
    if (a.sha256 === null) throw new AirlockError(ErrorCode.NOT_FOUND, "no such artifact");
    return this.o.store.get(a.sha256, range);
  }
}
