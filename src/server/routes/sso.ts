// /api/v1/auth single sign-on: the public list of ways to log in, and for each configured OpenID
// Connect provider (/auth/oidc/:provider/…) and forge (/auth/oauth/:forge/…) a start (302 to the
// provider, a short-lived HttpOnly cookie binding the login to this browser) and a callback (302
// to the return path with a NEW session cookie; any session the browser had is ended). Outside the
// bearer-token scope. A refused callback answers one JSON line (SSO_FAILED), never the provider's
// words; what happened is in the audit log.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { endSession, safeReturnPath, type SingleSignOn, type SsoProvider } from "../../auth/index.js";
import type { RouteContext } from "../deps.js";
import { ForgeParams, OidcParams, SsoStartQuery } from "../schemas.js";
import { cookieValue, requestClient, requestSession, setSessionCookie } from "../session.js";
import { validate } from "../validate.js";

/** Holds the login's browser secret between start and callback (see auth/pending-logins.ts). */
export const SSO_COOKIE = "airlock_sso";

/** The start or callback URL of a provider, under the public URL. */
export function ssoUrl(
  publicUrl: string,
  kind: SsoProvider["kind"],
  id: string,
  end: "start" | "callback",
): string {
  return `${publicUrl}/api/v1/auth/${kind === "oidc" ? "oidc" : "oauth"}/${id}/${end}`;
}

function ssoCookie(reply: FastifyReply, ctx: RouteContext, value: string, maxAgeS: number): void {
  const secure = ctx.config.publicUrl.startsWith("https:") ? "; Secure" : "";
  reply.header(
    "set-cookie",
    `${SSO_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAgeS}${secure}`,
  );
}

export function ssoRoutes(app: FastifyInstance, ctx: RouteContext, sso: SingleSignOn): void {
  app.get("/auth/providers", () => ({
    passwordLogin: ctx.config.auth.builtinUsers,
    providers: sso.providers.map((p) => ({
      id: p.id,
      name: p.name,
      kind: p.kind,
      startUrl: ssoUrl(ctx.config.publicUrl, p.kind, p.id, "start"),
    })),
  }));

  const start = async (
    p: SsoProvider,
    ret: string | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ) => {
    const r = await sso.start(p, safeReturnPath(ret), requestClient(request));
    ssoCookie(reply, ctx, r.browserSecret, Math.floor(r.maxAgeMs / 1000));
    return reply.redirect(r.redirect.href, 302);
  };

  const callback = async (p: SsoProvider, request: FastifyRequest, reply: FastifyReply) => {
    // The query as sent (duplicates kept: a repeated state or code is refused, not merged).
    const q = request.url.indexOf("?");
    const params = new URLSearchParams(q < 0 ? "" : request.url.slice(q + 1));
    const browserSecret = cookieValue(request.headers.cookie, SSO_COOKIE);
    ssoCookie(reply, ctx, "", 0);
    const before = await requestSession(ctx, request, { csrf: false });
    const r = await sso.finish(p, params, browserSecret, requestClient(request));
    // A new session id at login: whatever session the browser had is gone (no fixation).
    if (before) await endSession(ctx.pool, before);
    setSessionCookie(reply, ctx, r.session);
    return reply.redirect(`${ctx.config.publicUrl}${r.returnTo}`, 302);
  };

  // No HEAD twins for start and callback: a HEAD (a link prefetcher) would use up a login.
  app.get("/auth/oidc/:provider/start", { exposeHeadRoute: false }, async (request, reply) => {
    const { params, query } = validate(request, { params: OidcParams, query: SsoStartQuery });
    return start(sso.provider("oidc", params.provider), query.return, request, reply);
  });
  app.get("/auth/oidc/:provider/callback", { exposeHeadRoute: false }, async (request, reply) => {
    const { params } = validate(request, { params: OidcParams });
    return callback(sso.provider("oidc", params.provider), request, reply);
  });
  app.get("/auth/oauth/:forge/start", { exposeHeadRoute: false }, async (request, reply) => {
    const { params, query } = validate(request, { params: ForgeParams, query: SsoStartQuery });
    return start(sso.provider("oauth", params.forge), query.return, request, reply);
  });
  app.get("/auth/oauth/:forge/callback", { exposeHeadRoute: false }, async (request, reply) => {
    const { params } = validate(request, { params: ForgeParams });
    return callback(sso.provider("oauth", params.forge), request, reply);
  });
}
