// The web UI on the API's origin: the files Vite built (dist/web, `npm run build`) at `/`, and
// index.html for every page path of the single-page app (/runs/1, /jobs/2/logs, /admin/…), so a
// link opened in a new tab or a reload lands on the right page. The hashed files under /assets/
// never change (cached for a year); index.html is revalidated on every load, so a new build is
// picked up at once. The security headers (CSP without inline script) apply as on every answer.
//
// The links the CLI and the API print point at the API (…/api/v1/runs/1): a browser navigating
// there (Sec-Fetch-Dest: document) is sent to the matching page instead of a JSON 401, while
// programs (curl, the CLI, fetch) get the API as before.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from "fastify";
import { packageRoot } from "../db/package-root.js";

/** Page paths of the UI (preact-iso routes in web/src/app.tsx). */
const PAGES = ["/", "/login", "/runs", "/runs/*", "/jobs/*", "/repos/*", "/admin", "/admin/*"];

/** API addresses that have a page: a browser opening one is redirected there. */
const API_PAGES: Array<[RegExp, (m: RegExpExecArray) => string]> = [
  [/^\/api\/v1\/runs\/(\d+)\/?$/, (m) => `/runs/${m[1]}`],
  [/^\/api\/v1\/jobs\/(\d+)\/?$/, (m) => `/jobs/${m[1]}`],
  [/^\/api\/v1\/jobs\/(\d+)\/logs\/?$/, (m) => `/jobs/${m[1]}/logs`],
];

export function defaultWebRoot(): string {
  return join(packageRoot(), "dist", "web");
}

/** True for a browser loading a page (not fetch(), curl, or the CLI). */
function isNavigation(request: FastifyRequest): boolean {
  const dest = request.headers["sec-fetch-dest"];
  if (dest !== undefined) return dest === "document";
  // Browsers without Fetch Metadata: an HTML-first Accept and no credentials of a program.
  const accept = request.headers.accept ?? "";
  return accept.startsWith("text/html") && request.headers.authorization === undefined;
}

export async function installWebUi(app: FastifyInstance, root: string): Promise<void> {
  app.addHook("onRequest", async (request, reply) => {
    if (request.method !== "GET" || !request.url.startsWith("/api/v1/")) return;
    // Only the plain address: ?download=1 and other queries are the API's.
    if (request.url.includes("?") || !isNavigation(request)) return;
    for (const [re, page] of API_PAGES) {
      const m = re.exec(request.url);
      if (m) return reply.redirect(page(m), 303);
    }
  });

  const built = existsSync(join(root, "index.html"));
  let index: Buffer | undefined;
  const page = async (_request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    if (!built)
      return reply
        .status(503)
        .type("text/plain; charset=utf-8")
        .send(
          "The web UI is not built: run `npm run build` (it writes dist/web), then restart the server.\n",
        );
    index ??= await readFile(join(root, "index.html"));
    return reply.header("cache-control", "no-cache").type("text/html; charset=utf-8").send(index);
  };
  // Hidden from the API's route list and OpenAPI document (as @fastify/static's own route is).
  const hidden = { hide: true } as FastifySchema;
  for (const path of PAGES) app.get(path, { schema: hidden }, page);
  if (!built) return;
  await app.register(fastifyStatic, {
    root: join(root, "assets"),
    prefix: "/assets/",
    index: false,
    wildcard: true,
    immutable: true,
    maxAge: "365d",
    schemaHide: true,
  });
}
