// Zod schemas of the environments and deployment review routes (routes/environments.ts), from
// which the OpenAPI document is generated. Bounds here are loose (request sizes); the rules are
// checked in src/environments, which names every problem in one line (ENVIRONMENT_INVALID).
import { z } from "zod";
import { PositiveId } from "./schemas.js";

export const EnvParams = z.object({ id: PositiveId, env: z.string().min(1).max(1000) });

const patterns = z.array(z.string().max(1000)).max(200);

/** PUT …/environments/:env: creates it or changes the rules given (absent fields stay). */
export const PutEnvironment = z.strictObject({
  /** Users who may approve (user names; at most 6). */
  reviewers: z.array(z.string().min(1).max(100)).max(100).optional(),
  /** Anyone with at least this role on the repository may approve too; null: named reviewers only. */
  reviewerRole: z.enum(["viewer", "developer", "maintainer", "admin"]).nullable().optional(),
  /** Branches allowed to deploy (filter patterns: `*`, `**`); with `tags` both empty: any ref. */
  branches: patterns.optional(),
  tags: patterns.optional(),
  /** Minutes a job waits (after approval, or after queueing without reviewers): 0 to 43200. */
  waitTimerMinutes: z.number().int().optional(),
});

/** POST /runs/:id/deployments: approve or reject what the run waits for. */
export const ReviewDeployments = z.strictObject({
  state: z.enum(["approved", "rejected"]),
  /** Environments to review; absent: every environment the run waits for. */
  environments: z.array(z.string().min(1).max(1000)).min(1).max(50).optional(),
  comment: z.string().max(1000).optional(),
});

export type PutEnvironmentBody = z.infer<typeof PutEnvironment>;
export type ReviewDeploymentsBody = z.infer<typeof ReviewDeployments>;
