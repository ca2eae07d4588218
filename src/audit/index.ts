// Public face of the tamper-evident audit log: append (safe across processes and inside a
// caller's transaction), list with filters, and verify the hash chain — in memory, in the
// database, or in a plain-SQL pg_dump. How the chain works and what it cannot show:
// docs/security.md, "Audit log".
export {
  GENESIS_HASH,
  canonicalJson,
  encodeEntry,
  hashEntry,
  type AuditActor,
  type AuditEntry,
  type AuditInput,
  type AuditObject,
  type JsonValue,
} from "./entry.js";
export { appendAudit, AUDIT_LOCK_KEY, type Db } from "./append.js";
export { listAudit, type AuditFilter } from "./list.js";
export {
  ChainVerifier,
  describeChain,
  verifyAuditChain,
  type BreakReason,
  type ChainBroken,
  type ChainOk,
  type ChainResult,
  type Checkpoint,
} from "./verify.js";
export { verifyAuditDb, type VerifyDbOptions } from "./verify-db.js";
export { verifyAuditDump } from "./dump.js";
export { auditChainError } from "./errors.js";
