// The OpenAPI operations of the routes the web UI reads (routes/ui.ts, badge.ts); their response
// components are generated from the zod views in schemas-ui.ts.
import { ref, responseSchema, type Json, type Operation } from "./openapi-parts.js";
import { IdParams } from "./schemas.js";
import {
  AnnotationsQuery,
  AnnotationsView,
  BadgeQuery,
  DashboardView,
  LogChunksQuery,
  LogPageView,
  PermissionsQuery,
  PermissionsView,
  SummariesView,
} from "./schemas-ui.js";

export const UI_SCHEMAS: Record<string, Json> = {
  LogPage: responseSchema(LogPageView),
  RunAnnotations: responseSchema(AnnotationsView),
  StepSummaries: responseSchema(SummariesView),
  Permissions: responseSchema(PermissionsView),
  Dashboard: responseSchema(DashboardView),
};

export const UI_OPERATIONS: Operation[] = [
  {
    method: "get",
    path: "/api/v1/jobs/:id/log-chunks",
    summary:
      "The job's log as JSON pages (a reused job: the log of the job it reuses; attempt=N: the same job in run attempt N): chunks after `after` (<attempt>:<seq>, as `next` gives it), each with source, style (step, group, group-end, log, debug, error, warning, notice, ok, bad, skip; null: none) and time; `next` is null exactly when `complete` (the job ended and this is the last page)",
    params: IdParams,
    query: LogChunksQuery,
    ok: [200, ref("LogPage")],
    errors: [400, 404],
  },
  {
    method: "get",
    path: "/api/v1/jobs/:id/summaries",
    summary:
      "The job's step summaries (GITHUB_STEP_SUMMARY), in step order: Markdown a job wrote (masked), to be rendered as sanitized Markdown, never as HTML",
    params: IdParams,
    ok: [200, ref("StepSummaries")],
    errors: [404],
  },
  {
    method: "get",
    path: "/api/v1/runs/:id/annotations",
    summary:
      "The error, warning and notice lines of the jobs of a run attempt (default the current one), in job then log order, with their log positions; at most 200 (truncated says there are more)",
    params: IdParams,
    query: AnnotationsQuery,
    ok: [200, ref("RunAnnotations")],
    errors: [400, 404],
  },
  {
    method: "get",
    path: "/api/v1/me/permissions",
    summary:
      "The permissions the caller holds on a repository, an organization or a run's repository (at most one named), or at the instance level (server, member and self permissions) when none is named — as the routes decide them; 404 for an object the caller may not see",
    query: PermissionsQuery,
    ok: [200, ref("Permissions")],
    errors: [400, 404],
  },
  {
    method: "get",
    path: "/api/v1/dashboard",
    summary:
      "Queue depth, jobs and runs by state, nodes (online, offline, draining) and the capacity of the online ones with what running jobs use",
    ok: [200, ref("Dashboard")],
  },
  {
    method: "get",
    path: "/badge/*",
    summary:
      "A status badge, /badge/<repository>/<workflow>.svg (workflow: its file's base name with or without .yml, or its name): passing, failing, cancelled, running or no status of the newest running or completed run on `branch` (default the repository's default branch); `org` picks the organization. No token needed; a repository the caller may not read and that is not public answers exactly as a missing one",
    security: "none",
    query: BadgeQuery,
    ok: [200, "An SVG image", "image/svg+xml"],
    errors: [400, 404],
  },
];
