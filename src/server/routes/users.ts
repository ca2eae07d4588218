// /api/v1/users (server administrators): list, create, show (with roles), change, disable or
// enable, delete, reset a password, take away a lost second factor, list a user's tokens.
// Every change is audited in the transaction that makes it. Disabling a user or resetting their
// password ends their sessions and tokens at once.
import type { FastifyInstance } from "fastify";
import {
  clearTotp,
  createUser,
  deleteUser,
  getUser,
  keepOneServerAdmin,
  listApiTokens,
  listGrants,
  listUsers,
  setPassword,
  setUserDisabled,
  updateUser,
  type User,
} from "../../auth/index.js";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import { audited } from "../actor.js";
import type { RouteContext } from "../deps.js";
import { CreateUser, IdParams, ResetPassword, UpdateUser, type UserView } from "../schemas.js";
import { validate } from "../validate.js";

export function userView(u: User): UserView {
  return {
    id: u.id,
    name: u.name,
    displayName: u.displayName,
    email: u.email,
    disabled: u.disabled,
    serverAdmin: u.serverAdmin,
    hasPassword: u.hasPassword,
    mfa: u.mfa,
    createdAt: u.createdAt,
  };
}

async function existing(db: Parameters<typeof getUser>[0], id: number): Promise<User> {
  const u = await getUser(db, id);
  if (!u) throw new AirlockError(ErrorCode.NOT_FOUND, `user ${id} not found`);
  return u;
}

export function userRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get("/users", async () => (await listUsers(ctx.pool)).map(userView));

  app.post("/users", async (request, reply) => {
    const { body } = validate(request, { body: CreateUser });
    const user = await audited(
      ctx.pool,
      request,
      (db) =>
        createUser(db, {
          name: body.name,
          ...(body.password !== undefined ? { password: body.password } : {}),
          ...(body.displayName !== undefined ? { displayName: body.displayName } : {}),
          ...(body.email != null ? { email: body.email } : {}),
          ...(body.serverAdmin !== undefined ? { serverAdmin: body.serverAdmin } : {}),
        }),
      (u) => ({
        action: "user.created",
        object: { kind: "user", id: u.id },
        details: { name: u.name, serverAdmin: u.serverAdmin, password: u.hasPassword },
      }),
    );
    return reply.status(201).send(userView(user));
  });

  app.get("/users/:id", async (request) => {
    const { params } = validate(request, { params: IdParams });
    const u = await existing(ctx.pool, params.id);
    return { ...userView(u), roles: await listGrants(ctx.pool, { userId: u.id }) };
  });

  app.patch("/users/:id", async (request) => {
    const { params, body } = validate(request, { params: IdParams, body: UpdateUser });
    const u = await audited(
      ctx.pool,
      request,
      async (db) => {
        const before = await existing(db, params.id);
        if (body.disabled === true && !before.disabled) await keepOneServerAdmin(db, before.id);
        const { disabled, ...changes } = body;
        const after = await updateUser(db, before.id, changes);
        if (disabled !== undefined && disabled !== before.disabled)
          await setUserDisabled(db, before.id, disabled);
        return { before, after: (await getUser(db, before.id)) ?? after };
      },
      ({ before, after }) => ({
        action:
          body.disabled === true && !before.disabled
            ? "user.disabled"
            : body.disabled === false && before.disabled
              ? "user.enabled"
              : "user.changed",
        object: { kind: "user", id: after.id },
        details: { name: after.name, ...body },
      }),
    );
    return userView(u.after);
  });

  app.delete("/users/:id", async (request, reply) => {
    const { params } = validate(request, { params: IdParams });
    await audited(
      ctx.pool,
      request,
      async (db) => {
        const u = await existing(db, params.id);
        await keepOneServerAdmin(db, u.id);
        await deleteUser(db, u.id);
        return u;
      },
      (u) => ({ action: "user.deleted", object: { kind: "user", id: u.id }, details: { name: u.name } }),
    );
    return reply.status(204).send();
  });

  app.put("/users/:id/password", async (request, reply) => {
    const { params, body } = validate(request, { params: IdParams, body: ResetPassword });
    await audited(
      ctx.pool,
      request,
      async (db) => {
        const u = await existing(db, params.id);
        await setPassword(db, u.id, body.password);
        return u;
      },
      (u) => ({
        action: "user.password_reset",
        object: { kind: "user", id: u.id },
        details: { name: u.name },
      }),
    );
    return reply.status(204).send();
  });

  app.delete("/users/:id/totp", async (request) => {
    const { params } = validate(request, { params: IdParams });
    const u = await audited(
      ctx.pool,
      request,
      async (db) => clearTotp(db, (await existing(db, params.id)).id),
      (x) => ({ action: "user.mfa_removed", object: { kind: "user", id: x.id }, details: { name: x.name } }),
    );
    return userView(u);
  });

  app.get("/users/:id/tokens", async (request) => {
    const { params } = validate(request, { params: IdParams });
    const u = await existing(ctx.pool, params.id);
    return listApiTokens(ctx.pool, { userId: u.id });
  });
}
