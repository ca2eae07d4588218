// Public face of artifact provenance (issue 13, item 7): the in-toto Statement v1 / SLSA
// Provenance v1 the orchestrator writes for an artifact, its DSSE envelope signed with the
// organization's Ed25519 provenance key (sealed under the KMS hierarchy, never reachable by jobs),
// the published public keys, and the offline verifier behind `airlock verify` with its policy.
// No HTTP here: src/server/routes/provenance.ts publishes the keys.
export {
  BUILD_TYPE,
  PREDICATE_TYPE,
  STATEMENT_TYPE,
  STATUSES,
  buildStatement,
  builderIdOf,
  gitUri,
  sourceLocation,
  invocationIdOf,
  type CorroborationStatus,
  type ProvenanceInput,
  type ResourceDescriptor,
  type Statement,
  type TrustTier,
} from "./statement.js";
export {
  IN_TOTO_PAYLOAD_TYPE,
  keyIdOf,
  pae,
  signEnvelope,
  verifyEnvelope,
  type Envelope,
  type Verified,
} from "./dsse.js";
export {
  PROVENANCE_ALG,
  provenanceSigningKey,
  publishedProvenanceKeys,
  rotateProvenanceKey,
  type ProvenancePublicKey,
  type ProvenanceSigningKey,
} from "./keys.js";
export { pinnedActions } from "./actions.js";
export { envelopeFile, signProvenance, type SignedProvenance } from "./sign.js";
export { Policy, evaluatePolicy, parsePolicy } from "./policy.js";
export { StatementSchema, type ParsedStatement } from "./schema.js";
export { sha256File, verifyProvenance, type Check, type VerifyFiles } from "./verify.js";
