// Security headers on every response, and CORS closed. The API answers JSON, the agents' socket
// and (later) the web UI; none of it is meant to be framed, sniffed, embedded from elsewhere or
// read by another origin's scripts:
//   Content-Security-Policy  only our own origin's scripts, styles, images, connections; no
//                            plugins, no <base>, forms post only to us, never framed;
//   X-Frame-Options DENY     the same for browsers without frame-ancestors;
//   X-Content-Type-Options   nosniff: a job's log served as text/plain stays text;
//   Referrer-Policy          no-referrer: run and log URLs do not leak to links users follow;
//   Cross-Origin-*-Policy    same-origin: no other site embeds our responses or shares our window;
//   Strict-Transport-Security  when the public URL is https;
//   Cache-Control no-store   on every API response (they carry tokens, secrets shown once, logs):
//                            no shared or browser cache keeps them. Routes may set their own.
// A route that sets its own Content-Security-Policy or Cross-Origin-Resource-Policy keeps it (the
// status badges: stricter CSP, embeddable in another site's page).
// CORS: no Access-Control-* header is ever sent, so browsers refuse every cross-origin read, and
// a preflight (OPTIONS) finds no route (404).
import type { FastifyInstance } from "fastify";

export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export function installSecurityHeaders(app: FastifyInstance, opts: { https: boolean }): void {
  app.addHook("onSend", async (request, reply, payload) => {
    if (!reply.hasHeader("content-security-policy")) reply.header("content-security-policy", CSP);
    reply.header("x-frame-options", "DENY");
    reply.header("x-content-type-options", "nosniff");
    reply.header("referrer-policy", "no-referrer");
    reply.header("cross-origin-opener-policy", "same-origin");
    if (!reply.hasHeader("cross-origin-resource-policy"))
      reply.header("cross-origin-resource-policy", "same-origin");
    if (opts.https) reply.header("strict-transport-security", "max-age=31536000");
    if (request.url.startsWith("/api/") && !reply.hasHeader("cache-control"))
      reply.header("cache-control", "no-store");
    return payload;
  });
}
