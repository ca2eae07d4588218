// Validation without writing: one full pass over the archive (every byte inflated and counted,
// then dropped) that either returns the entry list or throws what extraction would have thrown.
import { resolveLimits, type ArchiveLimits } from "./limits.js";
import type { ArchiveEntry, ArchiveSource } from "./types.js";
import { walkArchive } from "./walk.js";

export async function inspectArchive(
  source: ArchiveSource,
  limits: Partial<ArchiveLimits> = {},
): Promise<ArchiveEntry[]> {
  const entries: ArchiveEntry[] = [];
  for await (const { entry } of walkArchive(source, resolveLimits(limits))) entries.push(entry);
  return entries;
}
