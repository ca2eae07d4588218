// The GitHub cache service v2 over twirp JSON (src/caches): what `@actions/cache` (actions/cache@v4)
// calls at `<origin of ACTIONS_RESULTS_URL>/twirp/github.actions.results.api.v1.CacheService/<Method>`
// when ACTIONS_CACHE_SERVICE_V2 is set. Authenticated by the job attempt's runtime token alone,
// checked on every call. A miss is `{ ok: false }` (200), as GitHub answers; an entry that exists
// already is 409 already_exists, which the client reports as "another job may be creating this
// cache" and goes on.
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Caller } from "../../artifacts/index.js";
import type { CacheService } from "../../caches/index.js";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import { bearerToken } from "../auth.js";
import type { RouteContext } from "../deps.js";
import {
  CreateCacheEntryBody,
  FinalizeCacheEntryBody,
  GetCacheEntryDownloadUrlBody,
} from "../schemas-caches.js";
import { validate } from "../validate.js";
import { twirpError } from "./twirp.js";

export const CACHE_TWIRP_PREFIX = "/twirp/github.actions.results.api.v1.CacheService";

type Handler = (svc: CacheService, c: Caller, request: FastifyRequest) => Promise<unknown>;

const METHODS: Record<string, Handler> = {
  CreateCacheEntry: async (svc, c, request) => {
    const { body } = validate(request, { body: CreateCacheEntryBody });
    const { uploadUrl } = await svc.create(c, { key: body.key, version: body.version });
    return { ok: true, signed_upload_url: uploadUrl };
  },
  FinalizeCacheEntryUpload: async (svc, c, request) => {
    const { body } = validate(request, { body: FinalizeCacheEntryBody });
    const e = await svc.finalize(c, {
      key: body.key,
      version: body.version,
      sizeBytes: Number(body.size_bytes),
    });
    return { ok: true, entry_id: String(e.id) };
  },
  GetCacheEntryDownloadURL: async (svc, c, request) => {
    const { body } = validate(request, { body: GetCacheEntryDownloadUrlBody });
    const hit = await svc.downloadUrl(c, {
      key: body.key,
      restoreKeys: body.restore_keys,
      version: body.version,
    });
    if (!hit) return { ok: false, signed_download_url: "", matched_key: "" };
    return { ok: true, signed_download_url: hit.url, matched_key: hit.entry.key };
  },
};

export const CACHE_TWIRP_METHODS = Object.keys(METHODS);

export function cacheTwirpRoutes(app: FastifyInstance, ctx: RouteContext): void {
  for (const [method, handle] of Object.entries(METHODS)) {
    app.post(`${CACHE_TWIRP_PREFIX}/${method}`, async (request, reply) => {
      try {
        const svc = ctx.caches;
        if (!svc)
          throw new AirlockError(ErrorCode.NOT_FOUND, "the cache service is not enabled on this server");
        const caller = await svc.caller(bearerToken(request.headers.authorization));
        return reply.send(await handle(svc, caller, request));
      } catch (err) {
        return twirpError(request, reply, err);
      }
    });
  }
}
