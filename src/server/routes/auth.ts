// /api/v1/auth: logging in with a built-in user (password, then the second factor when the user
// has one), logging out (this session, or everywhere), who am I, and TOTP enrolment. Outside the
// bearer-token scope: these routes authenticate by password or by the session cookie themselves.
// Every answer that carries a secret (CSRF token, TOTP secret, recovery codes) is not cached
// (Cache-Control: no-store on all of /api).
import type { FastifyInstance, FastifyRequest } from "fastify";
import {
  beginTotp,
  checkUserName,
  confirmTotp,
  sessionCsrfToken,
  endAllSessions,
  SESSION_COOKIE,
  endSession,
  getUser,
  passwordLogin,
  createSession,
  secondFactor,
  type LoginThrottle,
  type Session,
  type User,
} from "../../auth/index.js";
import { appendAudit } from "../../audit/index.js";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import type { RouteContext } from "../deps.js";
import { Login, SecondFactor, TotpBegin, TotpConfirm } from "../schemas.js";
import {
  clearSessionCookie,
  cookieValue,
  requestClient,
  requestSession,
  setSessionCookie,
} from "../session.js";
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

/**
 * The user name a failed login typed, for the audit log: kept only when it could be a user name
 * (people type passwords into the name field; names hold no control or direction characters).
 */
function typedName(name: string): string {
  try {
    return checkUserName(name);
  } catch {
    return "(not a valid user name)";
  }
}

/**
 * Records a login step in the audit log. Refusals by the throttle are not recorded (nothing was
 * tried, and a locked-out flood must not grow the log); they are in the server log.
 */
async function auditStep(
  ctx: RouteContext,
  request: FastifyRequest,
  step: () => Promise<{ userId: number; userName: string; details?: Record<string, unknown> }>,
  names: { ok: string; failed: string; attempted: Record<string, unknown>; userId?: number },
): Promise<void> {
  try {
    const r = await step();
    await appendAudit(ctx.pool, {
      actor: { kind: "user", id: r.userId, display: r.userName },
      clientAddress: request.ip,
      action: names.ok,
      object: { kind: "user", id: r.userId },
      details: { method: "password", ...r.details },
    });
  } catch (err) {
    if (err instanceof AirlockError && err.code === ErrorCode.UNAUTHORIZED)
      await appendAudit(ctx.pool, {
        actor: names.userId !== undefined ? { kind: "user", id: names.userId } : { kind: "anonymous" },
        clientAddress: request.ip,
        action: names.failed,
        object: names.userId !== undefined ? { kind: "user", id: names.userId } : null,
        details: { method: "password", ...names.attempted },
      });
    else if (err instanceof AirlockError && err.code === ErrorCode.RATE_LIMITED)
      request.log.warn({ client: request.ip, action: names.failed }, "login attempt refused by the throttle");
    throw err;
  }
}

export function authRoutes(app: FastifyInstance, ctx: RouteContext, throttle: LoginThrottle): void {
  app.post("/auth/login", async (request, reply) => {
    if (!ctx.config.auth.builtinUsers)
      throw new AirlockError(
        ErrorCode.LOGIN_METHOD_DISABLED,
        "password login is switched off on this server (auth.builtinUsers: false): use single sign-on",
      );
    const { body } = validate(request, { body: Login });
    let r: Awaited<ReturnType<typeof passwordLogin>> | undefined;
    await auditStep(
      ctx,
      request,
      async () => {
        r = await passwordLogin(ctx.pool, throttle, body, requestClient(request));
        return { userId: r.user.id, userName: r.user.name, details: { secondFactorDue: r.mfaRequired } };
      },
      // The name as typed, bounded (it is the caller's input, kept as data).
      { ok: "login.succeeded", failed: "login.failed", attempted: { user: typedName(body.user) } },
    );
    if (!r) throw new AirlockError(ErrorCode.UNAUTHORIZED, "not logged in");
    setSessionCookie(reply, ctx, r.session);
    return { user: view(r.user), csrfToken: r.session.csrfToken, mfaRequired: r.mfaRequired };
  });

  app.post("/auth/mfa", async (request, reply) => {
    const s = await requestSession(ctx, request, { csrf: true });
    if (!s) throw new AirlockError(ErrorCode.UNAUTHORIZED, "not logged in");
    const { body } = validate(request, { body: SecondFactor });
    const who = await getUser(ctx.pool, s.userId);
    let next: Awaited<ReturnType<typeof secondFactor>> | undefined;
    await auditStep(
      ctx,
      request,
      async () => {
        next = await secondFactor(
          ctx.pool,
          throttle,
          s,
          {
            ...(body.code !== undefined ? { code: body.code } : {}),
            ...(body.recoveryCode !== undefined ? { recoveryCode: body.recoveryCode } : {}),
          },
          requestClient(request),
        );
        return {
          userId: s.userId,
          userName: who?.name ?? String(s.userId),
          details: { factor: body.code !== undefined ? "totp" : "recovery_code" },
        };
      },
      {
        ok: "login.second_factor_succeeded",
        failed: "login.second_factor_failed",
        attempted: { factor: body.code !== undefined ? "totp" : "recovery_code" },
        userId: s.userId,
      },
    );
    if (!next) throw new AirlockError(ErrorCode.UNAUTHORIZED, "not logged in");
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
    await appendAudit(ctx.pool, {
      actor: { kind: "user", id: s.userId },
      clientAddress: request.ip,
      action: "user.logged_out_everywhere",
      object: { kind: "user", id: s.userId },
    });
    clearSessionCookie(reply, ctx);
    return reply.status(204).send();
  });

  // The web UI's start: who is logged in, whether the second factor is still due, and the
  // session's CSRF token (derived from the cookie, so a reload or a single sign-on needs no
  // second login). Readable only by our own origin: CORS is closed.
  app.get("/auth/session", async (request) => {
    const s = await requestSession(ctx, request, { csrf: false });
    const id = cookieValue(request.headers.cookie, SESSION_COOKIE);
    if (!s || id === undefined) throw new AirlockError(ErrorCode.UNAUTHORIZED, "not logged in");
    const u = await getUser(ctx.pool, s.userId);
    if (!u) throw new AirlockError(ErrorCode.UNAUTHORIZED, "not logged in");
    return { user: view(u), complete: s.complete, csrfToken: await sessionCsrfToken(ctx.pool, s, id) };
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

  app.post("/auth/totp/confirm", async (request, reply) => {
    const s = await complete(ctx, request);
    const { body } = validate(request, { body: TotpConfirm });
    const codes = await confirmTotp(ctx.pool, s.userId, body.code);
    // A second factor is a change of privilege: every earlier session and token of the user has
    // ended (they were made with the password alone); this browser gets a new, complete session.
    await endSession(ctx.pool, s);
    const c = requestClient(request);
    const next = await createSession(ctx.pool, s.userId, {
      complete: true,
      clientAddress: c.address,
      ...(c.userAgent !== undefined ? { userAgent: c.userAgent } : {}),
    });
    setSessionCookie(reply, ctx, next);
    await appendAudit(ctx.pool, {
      actor: { kind: "user", id: s.userId },
      clientAddress: request.ip,
      action: "user.mfa_enrolled",
      object: { kind: "user", id: s.userId },
      details: { factor: "totp" },
    });
    return { ...codes, csrfToken: next.csrfToken };
  });
}
