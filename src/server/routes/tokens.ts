// API tokens and one's own account: /api/v1/me (who am I, with roles), /api/v1/me/password,
// /api/v1/tokens (one's personal tokens: list, create — shown once — and revoke), and an
// organization's service tokens under /api/v1/organizations/:name/tokens (organization admins).
// A token can only be made by a user with the `admin` scope (a narrower token cannot mint a
// broader one); what a personal token may do is still bounded by its user's roles.
import type { FastifyInstance, FastifyRequest } from "fastify";
import {
  createApiToken,
  hasScope,
  listApiTokens,
  listGrants,
  passwordHashOf,
  rateLimitedError,
  revokeApiToken,
  setPassword,
  verifyPassword,
  type ApiTokenInfo,
} from "../../auth/index.js";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import { ownerOfOrganization } from "../../orchestrator/catalog/index.js";
import { requestAccess } from "../access.js";
import { audited } from "../actor.js";
import type { RouteContext } from "../deps.js";
import {
  ChangePassword,
  CreateToken,
  IdParams,
  NameParams,
  OrgTokenParams,
  type CreateTokenBody,
} from "../schemas.js";
import { validate } from "../validate.js";
import { userView } from "./users.js";

function tokenAudit(
  action: string,
  t: ApiTokenInfo,
): {
  action: string;
  object: { kind: string; id: number };
  details: Record<string, unknown>;
} {
  return {
    action,
    object: { kind: "token", id: t.id },
    details: {
      name: t.name,
      kind: t.kind,
      publicId: t.publicId,
      userId: t.userId,
      organizationId: t.organizationId,
      scopes: t.scopes,
      expiresAt: t.expiresAt,
    },
  };
}

async function organizationId(ctx: RouteContext, name: string): Promise<number> {
  const o = await ownerOfOrganization(ctx.pool, name);
  if (!o) throw new AirlockError(ErrorCode.NOT_FOUND, `organization ${name} not found`);
  return o.organizationId;
}

/** Makes a token for the requesting user (personal) or an organization (service), audited; shown once. */
async function issue(
  ctx: RouteContext,
  request: FastifyRequest,
  body: CreateTokenBody,
  owner: { kind: "personal"; userId: number } | { kind: "service"; organizationId: number },
): Promise<ApiTokenInfo & { token: string }> {
  const createdBy = requestAccess(request).user!.id;
  const made = await audited(
    ctx.pool,
    request,
    (db) =>
      createApiToken(db, {
        ...owner,
        name: body.name,
        scopes: body.scopes,
        createdBy,
        ...(body.days !== undefined ? { days: body.days } : {}),
      }),
    (r) => tokenAudit("token.created", r.info),
  );
  return { ...made.info, token: made.token };
}

async function revoke(ctx: RouteContext, request: FastifyRequest, t: ApiTokenInfo): Promise<void> {
  await audited(
    ctx.pool,
    request,
    (db) => revokeApiToken(db, t.id),
    () => tokenAudit("token.revoked", t),
  );
}

export function tokenRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get("/me", async (request) => {
    const a = requestAccess(request);
    const p = a.principal;
    if (p.kind === "service")
      return { kind: "service", tokenId: p.tokenId, organizationId: p.organizationId, scopes: p.scopes };
    return {
      kind: "user",
      user: userView(p.user),
      tokenId: p.tokenId ?? null,
      scopes: p.scopes ?? null,
      roles: await listGrants(ctx.pool, { userId: p.user.id }),
    };
  });

  app.put("/me/password", async (request, reply) => {
    const { body } = validate(request, { body: ChangePassword });
    const user = requestAccess(request).user!;
    // A wrong current password is a failed authentication: counted per account like any other.
    const key = `password-change:${user.id}`;
    const before = await ctx.authFailures.check(key);
    if (!before.allowed) throw rateLimitedError(before.retryAfterMs);
    const stored = await passwordHashOf(ctx.pool, user.name);
    const ok = (await verifyPassword(stored?.hash ?? undefined, body.currentPassword)).ok;
    if (!ok) {
      await ctx.authFailures.recordFailure(key);
      throw new AirlockError(ErrorCode.FORBIDDEN, "the current password is wrong");
    }
    await ctx.authFailures.reset(key);
    await audited(
      ctx.pool,
      request,
      (db) => setPassword(db, user.id, body.newPassword),
      () => ({
        action: "user.password_changed",
        object: { kind: "user", id: user.id },
        details: { name: user.name },
      }),
    );
    return reply.status(204).send();
  });

  app.get("/tokens", async (request) => {
    const user = requestAccess(request).user;
    return user ? listApiTokens(ctx.pool, { userId: user.id }) : [];
  });

  app.post("/tokens", async (request, reply) => {
    const { body } = validate(request, { body: CreateToken });
    const user = requestAccess(request).user!;
    return reply.status(201).send(await issue(ctx, request, body, { kind: "personal", userId: user.id }));
  });

  app.delete("/tokens/:id", async (request, reply) => {
    const { params } = validate(request, { params: IdParams });
    const a = requestAccess(request);
    const user = a.user!;
    // A token may always revoke itself (logging out); any other needs the admin scope.
    const self = a.principal.kind === "user" && a.principal.tokenId === params.id;
    const scopes = a.principal.scopes;
    if (!self && scopes !== undefined && !hasScope(scopes, "admin"))
      throw new AirlockError(
        ErrorCode.FORBIDDEN,
        "this token does not have the admin scope (it may revoke only itself)",
      );
    // Another user's token is revoked by a server administrator only; to anyone else it is not there.
    const mine = (await listApiTokens(ctx.pool, a.serverAdmin ? {} : { userId: user.id })).find(
      (t) => t.id === params.id && t.kind === "personal",
    );
    if (!mine) throw new AirlockError(ErrorCode.NOT_FOUND, `token ${params.id} not found`);
    await revoke(ctx, request, mine);
    return reply.status(204).send();
  });

  app.get("/organizations/:name/tokens", async (request) => {
    const { params } = validate(request, { params: NameParams });
    return listApiTokens(ctx.pool, { organizationId: await organizationId(ctx, params.name) });
  });

  app.post("/organizations/:name/tokens", async (request, reply) => {
    const { params, body } = validate(request, { params: NameParams, body: CreateToken });
    const orgId = await organizationId(ctx, params.name);
    return reply
      .status(201)
      .send(await issue(ctx, request, body, { kind: "service", organizationId: orgId }));
  });

  app.delete("/organizations/:name/tokens/:id", async (request, reply) => {
    const { params } = validate(request, { params: OrgTokenParams });
    const orgId = await organizationId(ctx, params.name);
    const t = (await listApiTokens(ctx.pool, { organizationId: orgId })).find(
      (x) => x.id === params.id && x.kind === "service",
    );
    if (!t) throw new AirlockError(ErrorCode.NOT_FOUND, `token ${params.id} not found`);
    await revoke(ctx, request, t);
    return reply.status(204).send();
  });
}
