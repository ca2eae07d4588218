// What the artifact and cache services' OpenAPI operations share (openapi-artifacts.ts,
// openapi-caches.ts): a twirp method of GitHub's results API called with a job's runtime token,
// and the query of a signed blob URL.
import { z } from "zod";
import type { Operation } from "./openapi-parts.js";

export const SignedBlobQuery = z.object({
  op: z.enum(["upload", "download"]),
  job: z.string(),
  att: z.string(),
  exp: z.string(),
  sig: z.string(),
  comp: z.enum(["block", "blocklist"]).optional(),
  blockid: z.string().optional(),
});

/** One twirp method of `github.actions.results.api.v1.<service>`. */
export function twirpOperation(
  service: "ArtifactService" | "CacheService",
  errors: Operation["errors"],
): (method: string, summary: string, body: z.ZodType, ok: Operation["ok"]) => Operation {
  return (method, summary, body, ok) => ({
    method: "post",
    path: `/twirp/github.actions.results.api.v1.${service}/${method}`,
    summary: `${summary} (twirp JSON; errors { code, msg, meta: { airlock_code } }; 401 once the job attempt has ended)`,
    security: "runtime",
    body,
    ok,
    errors,
  });
}
