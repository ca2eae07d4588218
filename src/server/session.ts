// Browser sessions over HTTP: the session cookie (HttpOnly, SameSite=Lax, Secure behind https,
// Path=/) and who a request on /api/v1 is. A bearer token is checked as before; without one, a
// complete session cookie identifies a user, and then every state-changing method must carry the
// session's CSRF token in X-CSRF-Token (a page of another origin can make the browser send the
// cookie, never read or send that header). What the user may do is decided in ./access.ts.
import type { FastifyReply, FastifyRequest } from "fastify";
import {
  ABSOLUTE_MS,
  checkCsrf,
  CSRF_HEADER,
  lookupSession,
  SESSION_COOKIE,
  type NewSession,
  type Session,
} from "../auth/index.js";
import { AirlockError, ErrorCode } from "../errors/index.js";
import type { RouteContext } from "./deps.js";

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

/** Who is asking, for throttling and the audit log: the client's address and its User-Agent. */
export function requestClient(request: FastifyRequest): { address: string; userAgent?: string } {
  const ua = request.headers["user-agent"];
  return { address: request.ip, ...(typeof ua === "string" ? { userAgent: ua } : {}) };
}

/** The value of cookie `name` in a Cookie header, or undefined (the first one when repeated). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (typeof header !== "string") return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function setSessionCookie(reply: FastifyReply, ctx: RouteContext, s: NewSession): void {
  const secure = ctx.config.publicUrl.startsWith("https:") ? "; Secure" : "";
  reply.header(
    "set-cookie",
    `${SESSION_COOKIE}=${s.id}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${Math.floor(ABSOLUTE_MS / 1000)}${secure}`,
  );
}

export function clearSessionCookie(reply: FastifyReply, ctx: RouteContext): void {
  const secure = ctx.config.publicUrl.startsWith("https:") ? "; Secure" : "";
  reply.header("set-cookie", `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0${secure}`);
}

/**
 * The session of a request (complete or not), or undefined. With `csrf`, a state-changing request
 * without the session's CSRF token is refused (403), before anything else is done.
 */
export async function requestSession(
  ctx: RouteContext,
  request: FastifyRequest,
  opts: { csrf: boolean },
): Promise<Session | undefined> {
  const session = await lookupSession(ctx.pool, cookieValue(request.headers.cookie, SESSION_COOKIE));
  if (!session) return undefined;
  if (opts.csrf && !SAFE.has(request.method)) {
    const token = request.headers[CSRF_HEADER];
    if (!checkCsrf(session, typeof token === "string" ? token : undefined))
      throw new AirlockError(ErrorCode.FORBIDDEN, `missing or wrong ${CSRF_HEADER} header`);
  }
  return session;
}
