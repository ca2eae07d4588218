// Who holds which role: /api/v1/organizations/:name/members (organization grants and those on its
// repositories) and /api/v1/repositories/:id/members (grants on one repository). Organization
// admins manage their organization, repository admins their repository; a user is named by login
// name. Each change is audited with the role before and after.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { findUserByName, listGrants, removeGrant, setGrant, type User } from "../../auth/index.js";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import {
  ownerOfOrganization,
  ownerOfRepository,
  type ObjectOwner,
} from "../../orchestrator/catalog/index.js";
import { audited } from "../actor.js";
import type { RouteContext } from "../deps.js";
import { NameParams, IdParams, OrgMemberParams, RepoMemberParams, SetRole } from "../schemas.js";
import { validate } from "../validate.js";

async function member(ctx: RouteContext, name: string): Promise<User> {
  const u = await findUserByName(ctx.pool, name);
  if (!u) throw new AirlockError(ErrorCode.NOT_FOUND, `user ${name} not found`);
  return u;
}

// The access hook has resolved the object already; read it again for its ids.
async function orgOf(ctx: RouteContext, name: string): Promise<ObjectOwner> {
  const o = await ownerOfOrganization(ctx.pool, name);
  if (!o) throw new AirlockError(ErrorCode.NOT_FOUND, `organization ${name} not found`);
  return o;
}

async function repoOf(ctx: RouteContext, id: number): Promise<ObjectOwner> {
  const o = await ownerOfRepository(ctx.pool, id);
  if (!o) throw new AirlockError(ErrorCode.NOT_FOUND, `repository ${id} not found`);
  return o;
}

async function grant(
  ctx: RouteContext,
  request: FastifyRequest,
  owner: ObjectOwner,
  user: User,
  role: Parameters<typeof setGrant>[1]["role"],
): Promise<unknown> {
  return audited(
    ctx.pool,
    request,
    (db) =>
      setGrant(db, {
        userId: user.id,
        organizationId: owner.organizationId,
        ...(owner.repositoryId !== undefined ? { repositoryId: owner.repositoryId } : {}),
        role,
      }),
    (r) => ({
      action: "role.granted",
      object: { kind: "user", id: user.id },
      details: {
        user: user.name,
        organization: owner.organizationName,
        repositoryId: owner.repositoryId ?? null,
        role,
        previous: r.previous,
      },
    }),
  ).then((r) => r.grant);
}

async function revoke(
  ctx: RouteContext,
  request: FastifyRequest,
  owner: ObjectOwner,
  user: User,
): Promise<void> {
  await audited(
    ctx.pool,
    request,
    (db) =>
      removeGrant(db, {
        userId: user.id,
        organizationId: owner.organizationId,
        ...(owner.repositoryId !== undefined ? { repositoryId: owner.repositoryId } : {}),
      }),
    (g) => ({
      action: "role.revoked",
      object: { kind: "user", id: user.id },
      details: { user: user.name, organization: g.organization, repositoryId: g.repositoryId, role: g.role },
    }),
  );
}

export function memberRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get("/organizations/:name/members", async (request) => {
    const { params } = validate(request, { params: NameParams });
    return listGrants(ctx.pool, { organizationId: (await orgOf(ctx, params.name)).organizationId });
  });

  app.put("/organizations/:name/members/:user", async (request) => {
    const { params, body } = validate(request, { params: OrgMemberParams, body: SetRole });
    const owner = await orgOf(ctx, params.name);
    return grant(
      ctx,
      request,
      { organizationId: owner.organizationId, organizationName: owner.organizationName },
      await member(ctx, params.user),
      body.role,
    );
  });

  app.delete("/organizations/:name/members/:user", async (request, reply) => {
    const { params } = validate(request, { params: OrgMemberParams });
    await revoke(ctx, request, await orgOf(ctx, params.name), await member(ctx, params.user));
    return reply.status(204).send();
  });

  app.get("/repositories/:id/members", async (request) => {
    const { params } = validate(request, { params: IdParams });
    return listGrants(ctx.pool, { repositoryId: (await repoOf(ctx, params.id)).repositoryId! });
  });

  app.put("/repositories/:id/members/:user", async (request) => {
    const { params, body } = validate(request, { params: RepoMemberParams, body: SetRole });
    return grant(ctx, request, await repoOf(ctx, params.id), await member(ctx, params.user), body.role);
  });

  app.delete("/repositories/:id/members/:user", async (request, reply) => {
    const { params } = validate(request, { params: RepoMemberParams });
    await revoke(ctx, request, await repoOf(ctx, params.id), await member(ctx, params.user));
    return reply.status(204).send();
  });
}
