// /api/v1/auth: logging in with a built-in user (password, then the second factor when the user
// has one), logging out (this session, or everywhere), who am I, and TOTP enrolment. Outside the
// bearer-token scope: these routes authenticate by password or by the session cookie themselves.
// Every answer that carries a secret (CSRF token, TOTP secret, recovery codes) is not cached
// (Cache-Control: no-store on all of /api).
import type { FastifyInstance, FastifyRequest } from "fastify";
import {
  beginTotp,
  confirmTotp,
  endAllSessions,
  endSession,
  getUser,
  passwordLogin,
  secondFactor,
  type LoginThrottle,
  type Session,
  type User,
} from "../../auth/index.js";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import type { RouteContext } from "../deps.js";
import { Login, SecondFactor, TotpBegin, TotpConfirm } from "../schemas.js";
import { clearSessionCookie, requestClient, requestSession, setSessionCookie } from "../session.js";
import { validate } from "../validate.js";

function view(u: User): Record<string, unknown> {
  return { id: u.id, name: u.name, displayName: u.displayName, serverAdmin: u.serverAdmin, mfa: u.mfa };
}

async function complete(ctx: RouteContext, request: FastifyRequest): Promise<Session> {
  const s = await requestSession(ctx, request, { csrf: true });
  if (!s) throw new AirlockError(ErrorCode.UNAUTHORIZED, "not logged in");
  if (!s.complete)
    throw new AirlockError(ErrorCode.FORBIDDEN, "the second factor is due: POST /api/v1/auth/mfa");
  return s;
}

export function authRoutes(app: FastifyInstance, ctx: RouteContext, throttle: LoginThrottle): void {
  app.post("/auth/login", async (request, reply) => {
    if (!ctx.config.auth.builtinUsers)
      throw new AirlockError(
        ErrorCode.LOGIN_METHOD_DISABLED,
        "password login is switched off on this server (auth.builtinUsers: false): use single sign-on",
      );
    const { body } = validate(request, { body: Login });
    const r = await passwordLogin(ctx.pool, throttle, body, requestClient(request));
    setSessionCookie(reply, ctx, r.session);
    return { user: view(r.user), csrfToken: r.session.csrfToken, mfaRequired: r.mfaRequired };
  });

  app.post("/auth/mfa", async (request, reply) => {
    const s = await requestSession(ctx, request, { csrf: true });
    if (!s) throw new AirlockError(ErrorCode.UNAUTHORIZED, "not logged in");
    const { body } = validate(request, { body: SecondFactor });
    const next = await secondFactor(
      ctx.pool,
      throttle,
      s,
      {
        ...(body.code !== undefined ? { code: body.code } : {}),
        ...(body.recoveryCode !== undefined ? { recoveryCode: body.recoveryCode } : {}),
      },
      requestClient(request),
    );
    setSessionCookie(reply, ctx, next);
    return { csrfToken: next.csrfToken };
  });

  app.post("/auth/logout", async (request, reply) => {
    const s = await requestSession(ctx, request, { csrf: true });
    if (s) await endSession(ctx.pool, s);
    clearSessionCookie(reply, ctx);
    return reply.status(204).send();
  });

  app.post("/auth/logout-all", async (request, reply) => {
    const s = await complete(ctx, request);
    await endAllSessions(ctx.pool, s.userId);
    clearSessionCookie(reply, ctx);
    return reply.status(204).send();
  });

  app.get("/auth/me", async (request) => {
    const s = await complete(ctx, request);
    const u = await getUser(ctx.pool, s.userId);
    if (!u) throw new AirlockError(ErrorCode.UNAUTHORIZED, "not logged in");
    return view(u);
  });

  app.post("/auth/totp/begin", async (request) => {
    const s = await complete(ctx, request);
    const { body } = validate(request, { body: TotpBegin });
    return beginTotp(ctx.pool, s.userId, {
      ...(body?.code !== undefined ? { code: body.code } : {}),
      ...(body?.recoveryCode !== undefined ? { recoveryCode: body.recoveryCode } : {}),
    });
  });

  app.post("/auth/totp/confirm", async (request) => {
    const s = await complete(ctx, request);
    const { body } = validate(request, { body: TotpConfirm });
    return confirmTotp(ctx.pool, s.userId, body.code);
  });
}
