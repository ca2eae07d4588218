// The cache service v2 operations of the OpenAPI document (routes/caches-twirp.ts and
// caches-blobs.ts): the twirp methods `@actions/cache` calls with a job's runtime token, and the
// signed blob URLs (Azure Put Blob / block blob upload, GET download) they hand out.
import { bool, obj, str, type Operation } from "./openapi-parts.js";
import { SignedBlobQuery, twirpOperation } from "./openapi-results.js";
import { BlobParams } from "./schemas-artifacts.js";
import {
  CreateCacheEntryBody,
  FinalizeCacheEntryBody,
  GetCacheEntryDownloadUrlBody,
} from "./schemas-caches.js";

const twirp = twirpOperation("CacheService", [400, 404, 409, 413]);
const BlobQuery = SignedBlobQuery;

export const CACHE_OPERATIONS: Operation[] = [
  twirp(
    "CreateCacheEntry",
    "Reserve (key, version) in the run's write scope (repository, trust tier, ref) and get a signed upload URL; 409 already_exists once the entry exists",
    CreateCacheEntryBody,
    [200, obj({ ok: bool, signed_upload_url: str })],
  ),
  twirp(
    "FinalizeCacheEntryUpload",
    "Finish a save: the declared size must be what was stored; least recently used entries of the repository and tier are evicted to keep the quota",
    FinalizeCacheEntryBody,
    [200, obj({ ok: bool, entry_id: str })],
  ),
  twirp(
    "GetCacheEntryDownloadURL",
    "The best match of key, then restore-key prefixes (newest first), same version, in the run's readable scopes; ok false on a miss",
    GetCacheEntryDownloadUrlBody,
    [200, obj({ ok: bool, signed_download_url: str, matched_key: str })],
  ),
  {
    method: "put",
    path: "/caches/blobs/:id",
    summary:
      "Signed upload URL (1 hour, its job attempt live): Azure Put Blob (no comp), Put Block (?comp=block&blockid=…) or Put Block List (?comp=blocklist); 201; errors as Azure XML with x-ms-error-code",
    security: "none",
    params: BlobParams,
    query: BlobQuery,
    ok: [201, "Blob written, block staged, or block list committed"],
    errors: [400, 401, 404, 409, 413],
  },
  {
    method: "get",
    path: "/caches/blobs/:id",
    summary:
      "Signed download URL (10 minutes, its job attempt live, the entry in its readable scopes): the archive (200), or one Range (206)",
    security: "none",
    params: BlobParams,
    query: BlobQuery,
    ok: [200, "The cache archive", "application/octet-stream"],
    errors: [401, 404, 416],
  },
];
