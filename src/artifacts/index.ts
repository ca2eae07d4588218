// Public face of artifacts (issue 13): the content-addressed blob store, the artifact rows, and the
// GitHub artifact service v4 in domain terms (runtime tokens, signed blob URLs, block uploads).
// No HTTP here: src/server/routes/artifacts-twirp.ts and artifacts-blobs.ts map it.
export { parseBlockList, checkBlockId, MAX_BLOCK_LIST_BYTES } from "./blocks.js";
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
  deriveKeys,
  jobBackendId,
  mintRuntimeToken,
  runBackendId,
  type Caller,
  type ServiceKeys,
} from "./runtime-token.js";
export { ArtifactService, type ArtifactServiceOptions } from "./service.js";
export { BLOB_PATH, signBlobUrl, verifyBlobUrl, type BlobOp, type SignedGrant } from "./signed-url.js";
export * from "./store/index.js";
