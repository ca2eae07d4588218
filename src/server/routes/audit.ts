// /api/v1/audit: the audit log, newest first, filtered by action prefix, actor, object and time;
// page with `before` (the last seq shown). Admins only, like everything under /api/v1.
import type { FastifyInstance } from "fastify";
import { listAudit, type AuditFilter } from "../../audit/index.js";
import type { RouteContext } from "../deps.js";
import { AuditQuery, type AuditEntryView } from "../schemas.js";
import { validate } from "../validate.js";

/** "kind" or "kind:id" (the id may hold colons). */
function split(v: string | undefined): { kind?: string; id?: string } {
  if (v === undefined) return {};
  const i = v.indexOf(":");
  return i < 0 ? { kind: v } : { kind: v.slice(0, i), id: v.slice(i + 1) };
}

export function auditRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get("/audit", async (request): Promise<AuditEntryView[]> => {
    const { query } = validate(request, { query: AuditQuery });
    const actor = split(query.actor);
    const object = split(query.object);
    const filter: AuditFilter = {
      ...(query.action ? { action: query.action } : {}),
      ...(actor.kind ? { actorKind: actor.kind } : {}),
      ...(actor.id !== undefined ? { actorId: actor.id } : {}),
      ...(object.kind ? { objectKind: object.kind } : {}),
      ...(object.id !== undefined ? { objectId: object.id } : {}),
      ...(query.since ? { since: query.since } : {}),
      ...(query.until ? { until: query.until } : {}),
      ...(query.before ? { before: query.before } : {}),
      limit: query.limit,
    };
    return listAudit(ctx.pool, filter);
  });
}
