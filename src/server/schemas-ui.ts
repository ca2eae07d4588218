// Zod schemas of the routes the web UI reads (routes/ui.ts, badge.ts): what each accepts, and the
// shape of what each answers (the OpenAPI document's components are generated from the latter).
import { z } from "zod";
import { PERMISSIONS, type Permission } from "../auth/index.js";
import { LOG_PAGE_DEFAULT, LOG_PAGE_MAX } from "../orchestrator/views/index.js";

const attempt = z.coerce.number().int().min(1).max(1_000_000);

/** GET /jobs/:id/log-chunks: after "<attempt>:<seq>" (exclusive), at most `limit` chunks. */
export const LogChunksQuery = z.strictObject({
  after: z
    .string()
    .regex(/^\d{1,9}:\d{1,9}$/, "a position <attempt>:<seq>, as `next` gives it")
    .optional(),
  limit: z.coerce.number().int().min(1).max(LOG_PAGE_MAX).default(LOG_PAGE_DEFAULT),
  /** The same job in this run attempt (as `airlock logs <job> --attempt N`). */
  attempt: attempt.optional(),
});

/** GET /runs/:id/annotations: the jobs of this run attempt (default the current one). */
export const AnnotationsQuery = z.strictObject({ attempt: attempt.optional() });

/** GET /me/permissions: on a repository, an organization or a run's repository; none: the instance. */
export const PermissionsQuery = z
  .strictObject({
    repository: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
    organization: z.string().min(1).max(100).optional(),
    run: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
  })
  .refine(
    (q) => [q.repository, q.organization, q.run].filter((v) => v !== undefined).length <= 1,
    "name at most one of repository, organization and run",
  );

/** GET /badge/<repository>/<workflow>.svg?branch=&org= (the branch: default the repository's default). */
export const BadgeQuery = z.object({
  branch: z.string().min(1).max(500).optional(),
  org: z.string().min(1).max(100).optional(),
});

const style = z
  .enum(["step", "group", "group-end", "log", "debug", "error", "warning", "notice", "ok", "bad", "skip"])
  .nullable();

export const LogChunkView = z.object({
  attempt: z.number().int(),
  seq: z.number().int(),
  data: z.string(),
  source: z.enum(["system", "step"]),
  style,
  time: z.string(),
});
export const LogPageView = z.object({
  chunks: z.array(LogChunkView),
  next: z.string().nullable(),
  complete: z.boolean(),
});
export const AnnotationsView = z.object({
  runAttempt: z.number().int(),
  annotations: z.array(
    z.object({
      jobId: z.number().int(),
      jobName: z.string(),
      attempt: z.number().int(),
      seq: z.number().int(),
      level: z.enum(["error", "warning", "notice"]),
      text: z.string(),
    }),
  ),
  truncated: z.boolean(),
});
export const SummariesView = z.array(
  z.object({
    step: z.object({ index: z.number().int(), id: z.string(), name: z.string() }),
    markdown: z.string(),
  }),
);
export const PermissionsView = z.object({
  permissions: z.array(z.enum(Object.keys(PERMISSIONS) as [Permission, ...Permission[]])),
});
const counts = z.record(z.string(), z.number().int());
export const DashboardView = z.object({
  queueDepth: z.number().int(),
  jobsByState: counts,
  runsByState: counts,
  nodes: z.object({
    total: z.number().int(),
    online: z.number().int(),
    offline: z.number().int(),
    draining: z.number().int(),
  }),
  capacity: z.object({
    cpus: z.number(),
    memoryMb: z.number(),
    usedCpus: z.number(),
    usedMemoryMb: z.number(),
    runningJobs: z.number().int(),
  }),
});
export const ApprovalView = z
  .object({
    roles: z.array(z.string()),
    youMay: z.boolean(),
  })
  .nullable();
