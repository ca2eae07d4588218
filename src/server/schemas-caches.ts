// Request bodies of the GitHub cache service v2 (twirp JSON, proto field names, as `@actions/cache`
// sends them: int64 as strings, defaults omitted; `metadata` accepted and ignored).
import { z } from "zod";

const key = z.string().max(1024).default("");
const version = z.string().max(1024).default("");
const metadata = z.unknown().optional();
/** A protobuf int64 in JSON: a decimal string (or a number). */
const int64 = z.union([
  z.string().regex(/^[0-9]{1,15}$/),
  z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
]);

export const CreateCacheEntryBody = z.object({ metadata, key, version });
export const FinalizeCacheEntryBody = z.object({ metadata, key, version, size_bytes: int64.default("0") });
export const GetCacheEntryDownloadUrlBody = z.object({
  metadata,
  key,
  restore_keys: z.array(z.string().max(1024)).max(20).default([]),
  version,
});
