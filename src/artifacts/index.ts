// Public face of artifacts (issue 13): the content-addressed blob store, the artifact rows, and the
// GitHub artifact service v4 in domain terms (runtime tokens, signed blob URLs, block uploads).
// No HTTP here: src/server/routes/artifacts-twirp.ts and artifacts-blobs.ts map it. The cache
// service (src/caches) reuses the runtime tokens, signed URLs and block uploads from here.
export {
  ARTIFACT_UPLOADS,
  checkBlockId,
  commitBlocks,
  commitWhole,
  hasStagedBlocks,
  MAX_BLOCK_LIST_BYTES,
  parseBlockList,
  releaseBlob,
  stageBlock,
  type UploadKind,
} from "./blocks.js";
export { inTransaction, type Db } from "./db.js";
export { openServiceKey } from "./key-file.js";
export {
  ARTIFACT_STATES,
  ARTIFACT_STATUSES,
  type ArtifactRecord,
  type ArtifactState,
  type ArtifactStatus,
} from "./records.js";
export { DEFAULT_POLICY, PROMOTABLE_STATUSES, type ArtifactPolicy, type PromotableStatus } from "./policy.js";
export type { Promotion } from "./promote.js";
export type { SweepResult } from "./retention.js";
export { attestArtifact, provenanceFile, type Attestation } from "./attest.js";
export {
  callerOf,
  deriveKeys,
  jobBackendId,
  grantCaller,
  liveCaller,
  mintRuntimeToken,
  runBackendId,
  type Caller,
  type ServiceKeys,
} from "./runtime-token.js";
export { ArtifactService, type ArtifactServiceOptions } from "./service.js";
export {
  ARTIFACT_BLOBS,
  BLOB_PATH,
  CACHE_BLOBS,
  signBlobUrl,
  verifyBlobUrl,
  type BlobOp,
  type BlobResource,
  type SignedGrant,
} from "./signed-url.js";
export * from "./store/index.js";
export {
  buildsOf,
  corroborate,
  corroborates,
  judge,
  markAwaitingRebuilds,
  onJobCompleted,
  settleRebuilds,
  queueReplicas,
  replicasFor,
  runMismatches,
  type Build,
  type CorroborationDeps,
  type MismatchReport,
} from "./corroboration/index.js";
