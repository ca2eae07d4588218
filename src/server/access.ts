// Who a request under the authenticated /api/v1 scope is, and whether it may do what it asks.
// onRequest authenticates (before the body is read): a personal or service API token in
// `Authorization: Bearer`, else a complete browser session (whose state-changing requests must
// carry the CSRF header). Failed token authentications are counted per client address; past the
// limit the address gets 429 before any lookup. preHandler authorizes with the route's entry in
// ROUTE_ACCESS: the object is resolved from the path (or body), an object the caller may not see
// answers 404 exactly as a missing one, one it may see but not change answers 403 with the reason.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import {
  Access,
  addressKey,
  authenticateApiToken,
  getUser,
  loadAccess,
  parseApiToken,
  rateLimitedError,
  type FailureLimiter,
  type Principal,
} from "../auth/index.js";
import { appendAudit, type AuditActor } from "../audit/index.js";
import {
  ownerOfJob,
  ownerOfOrganization,
  ownerOfRepository,
  ownerOfRun,
  type ListScope,
  type ObjectOwner,
} from "../orchestrator/catalog/index.js";
import { AirlockError, ErrorCode } from "../errors/index.js";
import { rememberActor } from "./actor.js";
import { bearerToken } from "./auth.js";
import type { RouteContext } from "./deps.js";
import { ROUTE_ACCESS, routeKey, type Target } from "./route-access.js";
import { PositiveId } from "./schemas.js";
import { requestSession } from "./session.js";
import { validate } from "./validate.js";

const accessOf = new WeakMap<FastifyRequest, Access>();

/** The access of an authenticated request (the hook has run). */
export function requestAccess(request: FastifyRequest): Access {
  const a = accessOf.get(request);
  if (!a) throw new Error("requestAccess: the request was not authenticated");
  return a;
}

/** What a list route may show the caller (undefined: everything). */
export function listScope(request: FastifyRequest): ListScope {
  const v = requestAccess(request).visible();
  return v.all ? undefined : { organizationIds: v.organizationIds, repositoryIds: v.repositoryIds };
}

/** The name runs record as their actor: the user, or the service token. */
export function actorName(request: FastifyRequest): string {
  const p = requestAccess(request).principal;
  return p.kind === "user" ? p.user.name : `service-token-${p.tokenId}`;
}

/**
 * The Airlock user behind a request that triggers a run (runs.triggered_by_user_id): the user, or
 * for a service token the user who made it (null when unknown, e.g. that user was deleted).
 */
export async function triggeringUserId(ctx: RouteContext, request: FastifyRequest): Promise<number | null> {
  const p = requestAccess(request).principal;
  if (p.kind === "user") return p.user.id;
  const { rows } = await ctx.pool.query<{ created_by: string | null }>(
    "SELECT created_by FROM api_tokens WHERE id = $1",
    [p.tokenId],
  );
  const by = rows[0]?.created_by;
  return by == null ? null : Number(by);
}

function actorOf(p: Principal): AuditActor {
  if (p.kind === "service")
    return {
      kind: "token",
      id: p.tokenId,
      display: `service token ${p.tokenId} (organization ${p.organizationId})`,
    };
  return {
    kind: "user",
    id: p.user.id,
    display: p.tokenId === undefined ? p.user.name : `${p.user.name} via token ${p.tokenId}`,
  };
}

/** The principal a presented token or session stands for, or undefined (no side effects). */
async function lookupPrincipal(
  ctx: RouteContext,
  request: FastifyRequest,
  bearer: string | undefined,
): Promise<Principal | undefined> {
  if (bearer !== undefined) {
    const t = await authenticateApiToken(ctx.pool, bearer);
    const user = t?.userId == null ? undefined : await getUser(ctx.pool, t.userId);
    if (t?.kind === "service" && t.organizationId !== null)
      return { kind: "service", tokenId: t.tokenId, organizationId: t.organizationId, scopes: t.scopes };
    if (t?.kind === "personal" && user && !user.disabled)
      return { kind: "user", user, tokenId: t.tokenId, scopes: t.scopes };
    return undefined;
  }
  const session = await requestSession(ctx, request, { csrf: false });
  const user = session?.complete ? await getUser(ctx.pool, session.userId) : undefined;
  return user && !user.disabled ? { kind: "user", user } : undefined;
}

/**
 * Failed token authentications are counted per client address. A valid token is accepted even
 * from a locked address (guessing a 256-bit secret is hopeless, and behind a proxy one client's
 * failures must not lock everyone out); a failure from a locked address gets 429 and is neither
 * counted nor recorded. Only failures under the limit are written to the audit log, so parallel
 * guesses cannot flood it.
 */
async function principalOf(
  ctx: RouteContext,
  request: FastifyRequest,
  failures: FailureLimiter,
): Promise<Principal> {
  const bearer = bearerToken(request.headers.authorization);
  if (bearer !== undefined || request.headers.authorization !== undefined) {
    const key = addressKey(request.ip);
    const before = await failures.check(key);
    const p = bearer === undefined ? undefined : await lookupPrincipal(ctx, request, bearer);
    if (p) return p;
    if (!before.allowed) throw rateLimitedError(before.retryAfterMs);
    const after = await failures.recordFailure(key);
    if (!after.allowed) throw rateLimitedError(after.retryAfterMs);
    // The token's public id when it has one, never its secret.
    const publicId = bearer === undefined ? undefined : parseApiToken(bearer)?.publicId;
    await appendAudit(ctx.pool, {
      actor: { kind: "anonymous" },
      clientAddress: request.ip,
      action: "auth.token_failed",
      details: publicId ? { publicId } : {},
    });
    throw new AirlockError(
      ErrorCode.UNAUTHORIZED,
      bearer === undefined ? "malformed Authorization header" : "invalid or unknown token",
    );
  }
  const session = await requestSession(ctx, request, { csrf: true });
  if (!session) throw new AirlockError(ErrorCode.UNAUTHORIZED, "missing bearer token or session");
  if (!session.complete)
    throw new AirlockError(ErrorCode.FORBIDDEN, "the second factor is due: POST /api/v1/auth/mfa");
  const user = await getUser(ctx.pool, session.userId);
  if (!user || user.disabled) throw new AirlockError(ErrorCode.UNAUTHORIZED, "not logged in");
  return { kind: "user", user };
}

/** The owner of the route's object, or undefined with the name to report it missing under. */
async function resolve(
  ctx: RouteContext,
  request: FastifyRequest,
  target: Target,
): Promise<{ owner?: ObjectOwner; what: string; id: string }> {
  if (target.kind === "organization-in-body") {
    const body = request.body as Record<string, unknown> | undefined;
    const raw = body?.[target.field];
    const name = typeof raw === "string" && raw !== "" && raw.length <= 100 ? raw : "default";
    const owner = await ownerOfOrganization(ctx.pool, name);
    return { ...(owner ? { owner } : {}), what: "organization", id: name };
  }
  if (target.kind === "organization") {
    const raw = (request.params as Record<string, unknown>)[target.param];
    const name = typeof raw === "string" ? raw : "";
    const owner =
      name.length > 0 && name.length <= 100 ? await ownerOfOrganization(ctx.pool, name) : undefined;
    return { ...(owner ? { owner } : {}), what: "organization", id: name };
  }
  // A malformed id gets the same 400 the route's own validation gives.
  const { params } = validate(request, { params: z.object({ [target.param]: PositiveId }) });
  const id = (params as Record<string, number>)[target.param]!;
  const find = { repository: ownerOfRepository, run: ownerOfRun, job: ownerOfJob }[target.kind];
  const owner = await find(ctx.pool, id);
  return { ...(owner ? { owner } : {}), what: target.kind, id: String(id) };
}

async function authorize(ctx: RouteContext, request: FastifyRequest): Promise<void> {
  const access = requestAccess(request);
  const spec = ROUTE_ACCESS[routeKey(request.method, request.routeOptions.url ?? "")];
  if (!spec) throw new AirlockError(ErrorCode.FORBIDDEN, "this route declares no permission: refused");
  let owner: ObjectOwner | undefined;
  if (spec.target) {
    const r = await resolve(ctx, request, spec.target);
    if (!r.owner) throw new AirlockError(ErrorCode.NOT_FOUND, `${r.what} ${r.id} not found`);
    owner = r.owner;
    const verdict = access.check(spec.permission, owner);
    if (!verdict.ok && verdict.hidden)
      throw new AirlockError(ErrorCode.NOT_FOUND, `${r.what} ${r.id} not found`);
    if (!verdict.ok) throw new AirlockError(ErrorCode.FORBIDDEN, verdict.reason);
    return;
  }
  const verdict = access.check(spec.permission);
  if (!verdict.ok)
    throw new AirlockError(ErrorCode.FORBIDDEN, verdict.hidden ? "not allowed" : verdict.reason);
}

/**
 * Whether the request's credential still works and still grants the route's permission: for
 * responses that outlive the request (the log stream), asked again while they run. No side
 * effects (nothing counted or recorded).
 */
export async function stillAllowed(ctx: RouteContext, request: FastifyRequest): Promise<boolean> {
  try {
    const p = await lookupPrincipal(ctx, request, bearerToken(request.headers.authorization));
    if (!p) return false;
    accessOf.set(request, await loadAccess(ctx.pool, p));
    await authorize(ctx, request);
    return true;
  } catch {
    return false;
  }
}

/**
 * The access of a request outside the authenticated scope that also serves anonymous callers (a
 * status badge): a valid token or complete session, else undefined. An invalid credential counts
 * as none (nothing is counted or recorded, and the answer is that of an anonymous caller).
 */
export async function optionalAccess(
  ctx: RouteContext,
  request: FastifyRequest,
): Promise<Access | undefined> {
  try {
    const p = await lookupPrincipal(ctx, request, bearerToken(request.headers.authorization));
    return p ? await loadAccess(ctx.pool, p) : undefined;
  } catch {
    return undefined;
  }
}

/** Installs authentication (onRequest) and authorization (preHandler) on an API scope. */
export function installAccess(api: FastifyInstance, ctx: RouteContext, failures: FailureLimiter): void {
  api.addHook("onRequest", async (request) => {
    const principal = await principalOf(ctx, request, failures);
    accessOf.set(request, await loadAccess(ctx.pool, principal));
    rememberActor(request, actorOf(principal));
  });
  api.addHook("preHandler", async (request) => authorize(ctx, request));
}
