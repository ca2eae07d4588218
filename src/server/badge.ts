// GET /badge/<repository>/<workflow>.svg[?branch=B][&org=O] — a status badge, outside /api/v1 and
// open to anonymous viewers: "<workflow> | passing|failing|cancelled|running|no status" of the
// newest running or completed run of the workflow on the branch (default: the repository's
// default branch). <repository> is the repository's name (owner/repo); `org` picks the Airlock
// organization when several have a repository of that name.
//
// Nothing leaks: a repository the viewer may not read (anonymous, or without repository.read) and
// that is not public answers exactly as one that does not exist — the same bytes, status and
// headers, since the badge's text is built only from the URL and the run's status. A name that
// several visible repositories share (and no `org`) answers the same. Every string in the SVG is
// escaped (workflow and branch names are hostile), and a CSP without scripts covers the document.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { AirlockError, ErrorCode } from "../errors/index.js";
import { latestRunStatus, repositoriesNamed, type BadgeStatus } from "../orchestrator/views/index.js";
import { optionalAccess } from "./access.js";
import type { RouteContext } from "./deps.js";
import { BadgeQuery } from "./schemas-ui.js";
import { validate } from "./validate.js";

export const BADGE_CSP = "default-src 'none'; sandbox";

const COLORS: Record<BadgeStatus, string> = {
  passing: "#2da44e",
  failing: "#cf222e",
  cancelled: "#6e7781",
  running: "#bf8700",
  "no status": "#9f9f9f",
};

/** Characters XML 1.0 does not allow (controls other than tab and line breaks, lone surrogates). */
/* eslint-disable no-control-regex -- the characters XML forbids are the point */
const NOT_XML =
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
/* eslint-enable no-control-regex */

/** Text as XML character data or attribute value: markup escaped, characters XML forbids replaced. */
export function xmlEscape(s: string): string {
  return s
    .replace(NOT_XML, "\ufffd")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** At most `max` characters (code points), with an ellipsis when cut. */
function clip(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : `${chars.slice(0, max - 1).join("")}…`;
}

/** A flat two-part badge; widths estimated from the character count (no font metrics needed). */
export function badgeSvg(label: string, status: BadgeStatus): string {
  const left = clip(label, 60);
  const width = (t: string): number => [...t].length * 7 + 12;
  const lw = width(left);
  const rw = width(status);
  const l = xmlEscape(left);
  const text = `${l}: ${status}`;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${lw + rw}" height="20" role="img" aria-label="${text}">` +
    `<title>${text}</title>` +
    `<rect width="${lw}" height="20" fill="#555"/>` +
    `<rect x="${lw}" width="${rw}" height="20" fill="${COLORS[status]}"/>` +
    `<g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">` +
    `<text x="${lw / 2}" y="14">${l}</text>` +
    `<text x="${lw + rw / 2}" y="14">${status}</text>` +
    `</g></svg>\n`
  );
}

/** The badge's status as this viewer may know it ("no status" for what it may not see). */
async function statusFor(
  ctx: RouteContext,
  request: FastifyRequest,
  name: string,
  workflow: string,
  query: { branch?: string | undefined; org?: string | undefined },
): Promise<{ status: BadgeStatus; authenticated: boolean }> {
  const access = await optionalAccess(ctx, request);
  const authenticated = access !== undefined;
  const visible = (await repositoriesNamed(ctx.pool, name, query.org)).filter(
    (r) =>
      r.visibility === "public" ||
      (access?.check("repository.read", {
        organizationId: r.organizationId,
        organizationName: r.organizationName,
        repositoryId: r.id,
      }).ok ??
        false),
  );
  const repo = visible.length === 1 ? visible[0] : undefined;
  if (!repo) return { status: "no status", authenticated };
  const status = await latestRunStatus(ctx.pool, repo.id, workflow, query.branch ?? repo.defaultBranch);
  return { status, authenticated };
}

export function badgeRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get("/badge/*", async (request, reply) => {
    const { query } = validate(request, { query: BadgeQuery });
    const path = (request.params as Record<string, string | undefined>)["*"] ?? "";
    const m = /^(.+)\/([^/]+)\.svg$/.exec(path);
    if (!m || m[1]!.length > 200 || m[2]!.length > 300)
      throw new AirlockError(ErrorCode.NOT_FOUND, "expected /badge/<repository>/<workflow>.svg");
    const [, name, workflow] = m as unknown as [string, string, string];
    const { status, authenticated } = await statusFor(ctx, request, name, workflow, query);
    return reply
      .status(200)
      .header("content-type", "image/svg+xml; charset=utf-8")
      .header("cache-control", authenticated ? "private, no-cache" : "no-cache")
      .header("vary", "Cookie, Authorization")
      .header("content-security-policy", BADGE_CSP)
      .header("cross-origin-resource-policy", "cross-origin")
      .send(badgeSvg(workflow, status));
  });
}
