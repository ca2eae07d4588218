// The provenance public keys over HTTP (src/artifacts/provenance): public, no authentication, so
// anyone holding an artifact and its provenance can fetch the key once and verify offline
// (`airlock provenance key`, then `airlock verify`). Reading never makes a key: an organization
// gets one when its first artifact is signed.
import type { FastifyInstance } from "fastify";
import { publishedProvenanceKeys } from "../../artifacts/provenance/index.js";
import { getOrganization } from "../../orchestrator/catalog/index.js";
import type { RouteContext } from "../deps.js";
import { ProvenanceKeysQuery, type ProvenanceKeysView } from "../schemas-provenance.js";
import { validate } from "../validate.js";

export const PROVENANCE_KEYS_PATH = "/api/v1/provenance/keys";

export function provenancePublicRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get(PROVENANCE_KEYS_PATH, async (request, reply) => {
    const { query } = validate(request, { query: ProvenanceKeysQuery });
    const org =
      query.organization === undefined ? undefined : await getOrganization(ctx.pool, query.organization);
    const body: ProvenanceKeysView = { keys: await publishedProvenanceKeys(ctx.pool, org?.id) };
    // Brief caching: a new key is published before it signs anything.
    return reply.header("cache-control", "public, max-age=300").send(body);
  });
}
