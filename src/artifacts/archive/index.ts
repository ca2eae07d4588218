// Safe archives: the public face. Inspect, extract (all or nothing) and compare zip, tar and tar.gz
// archives that a job produced — hostile bytes — under the rules and limits in docs/integrity.md.
// Every refusal is an AirlockError with code ARCHIVE_REJECTED and details { entry, rule }.
export { diffArchives, type ArchiveDiff, type EntrySummary, type FirstDifference } from "./diff.js";
export { extractArchive } from "./extract.js";
export { inspectArchive } from "./inspect.js";
export { DEFAULT_ARCHIVE_LIMITS, resolveLimits, type ArchiveLimits } from "./limits.js";
export { ArchiveRule, type ArchiveRejection } from "./reject.js";
export { sniff as detectArchiveFormat } from "./source.js";
export type { ArchiveEntry, ArchiveFormat, ArchiveSource, EntryType } from "./types.js";
