// What the web UI reads beyond the run and job views (docs/architecture.md, "Web UI support"):
//   GET /jobs/:id/log-chunks   the log as JSON pages, each chunk with its source, style and time
//   GET /runs/:id/annotations  the error/warning/notice lines of a run attempt's jobs
//   GET /jobs/:id/summaries    the job's step summaries (Markdown as text, rendered sanitized)
//   GET /me/permissions        what the caller may do on a repository, organization, run or the instance
//   GET /dashboard             queue depth, jobs and runs by state, nodes, capacity
import type { FastifyInstance } from "fastify";
import { heldPermissions, type Owner } from "../../auth/index.js";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import { ownerOfOrganization, ownerOfRepository, ownerOfRun } from "../../orchestrator/catalog/index.js";
import {
  dashboardStats,
  jobOfRunAttempt,
  jobSummaries,
  parsePosition,
  readLogPage,
  runAnnotations,
} from "../../orchestrator/views/index.js";
import { JobState, RunState } from "../../orchestrator/states.js";
import { requestAccess } from "../access.js";
import type { RouteContext } from "../deps.js";
import { IdParams } from "../schemas.js";
import { AnnotationsQuery, LogChunksQuery, PermissionsQuery } from "../schemas-ui.js";
import { validate } from "../validate.js";

export function uiRoutes(app: FastifyInstance, ctx: RouteContext): void {
  // A reused job shows the log of the job it reuses (as GET /jobs/:id/logs); ?attempt=N the same
  // job in run attempt N.
  app.get("/jobs/:id/log-chunks", async (request) => {
    const { params, query } = validate(request, { params: IdParams, query: LogChunksQuery });
    const job =
      query.attempt === undefined ? params.id : await jobOfRunAttempt(ctx.pool, params.id, query.attempt);
    // (A missing job was answered 404 by the access hook, which resolved its repository.)
    const after = query.after === undefined ? undefined : parsePosition(query.after);
    return readLogPage(ctx.pool, job, after, query.limit);
  });

  app.get("/runs/:id/annotations", async (request) => {
    const { params, query } = validate(request, { params: IdParams, query: AnnotationsQuery });
    return runAnnotations(ctx.pool, params.id, query.attempt);
  });

  app.get("/jobs/:id/summaries", async (request) => {
    const { params } = validate(request, { params: IdParams });
    return jobSummaries(ctx.pool, params.id);
  });

  // Decided by Access.check, as the access hook decides each route. An object the caller may not
  // see answers 404 exactly as a missing one.
  app.get("/me/permissions", async (request) => {
    const { query } = validate(request, { query: PermissionsQuery });
    const access = requestAccess(request);
    let target: { owner: Owner; level: "organization" | "repository" } | undefined;
    let missing = "";
    if (query.repository !== undefined) {
      const owner = await ownerOfRepository(ctx.pool, query.repository);
      missing = `repository ${query.repository} not found`;
      target = owner && access.sees(owner) ? { owner, level: "repository" } : undefined;
    } else if (query.run !== undefined) {
      const owner = await ownerOfRun(ctx.pool, query.run);
      missing = `run ${query.run} not found`;
      target = owner && access.sees(owner) ? { owner, level: "repository" } : undefined;
    } else if (query.organization !== undefined) {
      const owner = await ownerOfOrganization(ctx.pool, query.organization);
      missing = `organization ${query.organization} not found`;
      target =
        owner && access.sees({ organizationId: owner.organizationId })
          ? { owner, level: "organization" }
          : undefined;
    }
    if (missing !== "" && target === undefined) throw new AirlockError(ErrorCode.NOT_FOUND, missing);
    return { permissions: heldPermissions(access, target) };
  });

  // Nodes are server-wide facts: nodes.read, as GET /nodes (the /metrics endpoint is open, but it
  // lists no nodes).
  app.get("/dashboard", async () => {
    const s = await dashboardStats(ctx.pool);
    const draining = (n: { id: number; connected: boolean; enabled: boolean }): boolean =>
      n.connected && (!n.enabled || ctx.agents.isDraining(n.id));
    const online = s.nodes.filter((n) => n.connected && !draining(n));
    // Every state present (0 when none), as /metrics has them.
    const every = (states: object, counts: Record<string, number>): Record<string, number> =>
      Object.fromEntries(Object.values(states).map((st: string) => [st, counts[st] ?? 0]));
    return {
      queueDepth: s.queueDepth,
      jobsByState: every(JobState, s.jobsByState),
      runsByState: every(RunState, s.runsByState),
      nodes: {
        total: s.nodes.length,
        online: online.length,
        offline: s.nodes.filter((n) => !n.connected).length,
        draining: s.nodes.filter(draining).length,
      },
      capacity: {
        cpus: online.reduce((a, n) => a + n.cpus, 0),
        memoryMb: online.reduce((a, n) => a + n.memoryMb, 0),
        usedCpus: s.used.cpus,
        usedMemoryMb: s.used.memoryMb,
        runningJobs: s.used.jobs,
      },
    };
  });
}
