// Job identity tokens over HTTP (src/job-identity): the OpenID Connect discovery documents and key
// sets (public, no authentication: relying parties fetch them), the agent's request for a job's
// token (authenticated by the job attempt's request token alone; failures are throttled per client
// address by a limiter of the route's own, and each attempt gets a bounded number of tokens), and an organization admin's manual key rotation (under /api/v1,
// with the permission ROUTE_ACCESS declares).
import type { FastifyInstance, FastifyReply } from "fastify";
import { z } from "zod";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import {
  discoveryDocument,
  issueIdToken,
  issuerOf,
  publishedKeys,
  rotateSigningKey,
} from "../../job-identity/index.js";
import { getOrganization } from "../../orchestrator/catalog/index.js";
import { ID_TOKEN_PATH } from "../../protocol/agent.js";
import { audited } from "../actor.js";
import { bearerToken } from "../auth.js";
import type { RouteContext } from "../deps.js";
import { errorBody } from "../errors.js";
import { nodeAuthGate } from "../node-throttle.js";
import { NameParams } from "../schemas.js";
import { validate } from "../validate.js";

export const OrgParams = z.object({ org: z.string().min(1).max(100) });
export const IdTokenQuery = z.object({ audience: z.string().min(1).max(256).optional() });

/** Key sets may be cached briefly: a new key is published before it signs anything. */
function publicDocument(reply: FastifyReply, body: unknown): FastifyReply {
  return reply.header("cache-control", "public, max-age=300").send(body);
}

/** Discovery and key sets: the instance's and each organization's. */
export function jobIdentityPublicRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const base = ctx.links.publicUrl.replace(/\/+$/, "");
  app.get("/.well-known/openid-configuration", (_request, reply) =>
    publicDocument(reply, discoveryDocument(base)),
  );
  app.get("/.well-known/jwks.json", async (_request, reply) =>
    publicDocument(reply, { keys: await publishedKeys(ctx.pool) }),
  );
  app.get("/orgs/:org/.well-known/openid-configuration", async (request, reply) => {
    const { params } = validate(request, { params: OrgParams });
    const org = await getOrganization(ctx.pool, params.org);
    return publicDocument(reply, discoveryDocument(issuerOf(base, org.name)));
  });
  app.get("/orgs/:org/.well-known/jwks.json", async (request, reply) => {
    const { params } = validate(request, { params: OrgParams });
    const org = await getOrganization(ctx.pool, params.org);
    return publicDocument(reply, { keys: await publishedKeys(ctx.pool, org.id) });
  });

  app.get(ID_TOKEN_PATH, async (request, reply) => {
    // Its own limiter: a dead request token must not count against the node's WebSocket.
    const gate = nodeAuthGate(ctx.idTokenLimiter, request.ip);
    const limited = await gate.refusal();
    if (limited) return reply.status(429).send(errorBody(limited));
    const { query } = validate(request, { query: IdTokenQuery });
    const token = bearerToken(request.headers.authorization);
    try {
      if (token === undefined) throw new AirlockError(ErrorCode.UNAUTHORIZED, "a request token is required");
      const issued = await issueIdToken(
        ctx.pool,
        ctx.kms,
        { publicUrl: base, keyDays: ctx.config.idTokenKeyDays },
        token,
        query.audience,
      );
      return { value: issued.value };
    } catch (err) {
      if (err instanceof AirlockError && err.code === ErrorCode.UNAUTHORIZED) await gate.failed();
      throw err;
    }
  });
}

/** POST /api/v1/organizations/:name/id-token-keys/rotate (organization admins). */
export function jobIdentityApiRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.post("/organizations/:name/id-token-keys/rotate", async (request) => {
    const { params } = validate(request, { params: NameParams });
    const org = await getOrganization(ctx.pool, params.name);
    return audited(
      ctx.pool,
      request,
      async (db) => ({ kid: await rotateSigningKey(db, ctx.kms, org.id) }),
      (r) => ({
        action: "organization.id_token_key_rotated",
        object: { kind: "organization", id: org.id },
        details: { name: org.name, kid: r.kid },
      }),
    );
  });
}
