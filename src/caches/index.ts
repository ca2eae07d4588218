// Public face of caches (issue 13, items 2 and 4): the GitHub cache service v2 that `@actions/cache`
// (actions/cache@v4) speaks, with entries scoped by repository, trust tier and ref. No HTTP here:
// src/server/routes/caches-twirp.ts and caches-blobs.ts map it.
export { type CacheEntry } from "./records.js";
export { scopesOf, type RunScopes, type Scope, type Tier } from "./scope.js";
export { CACHE_UPLOADS, CacheService, type CacheServiceOptions } from "./service.js";
