// Signed blob URLs: what CreateArtifact and GetSignedArtifactURL (and the cache service's
// CreateCacheEntry and GetCacheEntryDownloadURL) hand out, as Azure's SAS URLs. Each names one
// artifact (or cache entry), one operation (upload or download) and the job attempt that asked, and
// ends at `exp`, bound to the node the attempt was assigned to; an HMAC-SHA256 under a key only the orchestrator holds covers all of it. The query
// parameters the Azure client appends (comp, blockid) are outside the signature: they choose what
// to do within the upload the URL allows. The blob route also checks the attempt is still live.
import { createHmac, timingSafeEqual } from "node:crypto";
import { AirlockError, ErrorCode } from "../errors/index.js";
import type { ServiceKeys } from "./runtime-token.js";

export const BLOB_PATH = "/artifacts/blobs/:id";
export type BlobOp = "upload" | "download";

/**
 * What kind of row a signed URL names, and where its route is. The label is part of the MAC, so a
 * URL for artifact 7 never opens cache entry 7 (the ids are of different tables).
 */
export interface BlobResource {
  path: string;
  label: string;
}
export const ARTIFACT_BLOBS: BlobResource = { path: BLOB_PATH, label: "v1" };
export const CACHE_BLOBS: BlobResource = { path: "/caches/blobs/:id", label: "cache v1" };

/** Upload URLs live long enough for a large upload's blocks; download URLs only to start a GET. */
export const URL_SECONDS: Record<BlobOp, number> = { upload: 3600, download: 600 };

export interface SignedGrant {
  op: BlobOp;
  artifactId: number;
  jobId: number;
  attempt: number;
  /**
   * The node the attempt was assigned to when the URL was signed: it works for no other node
   * (defence in depth; an attempt number is never given to a second node).
   */
  nodeId: number;
  /** Unix seconds. */
  exp: number;
}

function mac(keys: ServiceKeys, g: SignedGrant, r: BlobResource): Buffer {
  return createHmac("sha256", keys.url)
    .update(`${r.label}\n${g.op}\n${g.artifactId}\n${g.jobId}\n${g.attempt}\n${g.nodeId}\n${g.exp}`)
    .digest();
}

export function signBlobUrl(
  keys: ServiceKeys,
  publicUrl: string,
  g: Omit<SignedGrant, "exp">,
  now: Date = new Date(),
  resource: BlobResource = ARTIFACT_BLOBS,
): string {
  const grant = { ...g, exp: Math.floor(now.getTime() / 1000) + URL_SECONDS[g.op] };
  const q = new URLSearchParams({
    op: grant.op,
    job: String(grant.jobId),
    att: String(grant.attempt),
    nd: String(grant.nodeId),
    exp: String(grant.exp),
    sig: mac(keys, grant, resource).toString("base64url"),
  });
  const path = resource.path.replace(":id", String(g.artifactId));
  return `${publicUrl.replace(/\/+$/, "")}${path}?${q.toString()}`;
}

const refused = (why: string): AirlockError =>
  new AirlockError(ErrorCode.UNAUTHORIZED, `signed URL refused: ${why}`);

const int = (v: unknown): number | undefined =>
  typeof v === "string" && /^[0-9]{1,15}$/.test(v) ? Number(v) : undefined;

/** The grant a signed URL carries, when its signature is right and it has not expired. */
export function verifyBlobUrl(
  keys: ServiceKeys,
  artifactId: number,
  query: Record<string, unknown>,
  now: Date = new Date(),
  resource: BlobResource = ARTIFACT_BLOBS,
): SignedGrant {
  const op = query.op;
  const jobId = int(query.job);
  const attempt = int(query.att);
  const nodeId = int(query.nd);
  const exp = int(query.exp);
  const sig = typeof query.sig === "string" ? Buffer.from(query.sig, "base64url") : undefined;
  if (
    (op !== "upload" && op !== "download") ||
    jobId === undefined ||
    attempt === undefined ||
    nodeId === undefined ||
    exp === undefined ||
    !sig
  )
    throw refused("missing or malformed parameters");
  const grant: SignedGrant = { op, artifactId, jobId, attempt, nodeId, exp };
  const want = mac(keys, grant, resource);
  if (sig.length !== want.length || !timingSafeEqual(sig, want)) throw refused("bad signature");
  if (exp < Math.floor(now.getTime() / 1000)) throw refused("expired");
  return grant;
}
