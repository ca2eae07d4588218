// Request bodies of the GitHub artifact service v4 (twirp JSON, proto field names, as
// `@actions/artifact` sends them: int64 as strings, wrappers as bare values, defaults omitted).
import { z } from "zod";

const ids = {
  workflow_run_backend_id: z.string().max(100).default(""),
  workflow_job_run_backend_id: z.string().max(100).default(""),
};
const name = z.string().max(1024).default("");
/** A protobuf int64 in JSON: a decimal string (or a number). */
const int64 = z.union([
  z.string().regex(/^[0-9]{1,15}$/),
  z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
]);

export const CreateArtifactBody = z.object({
  ...ids,
  name,
  expires_at: z.iso.datetime({ offset: true }).optional(),
  version: z.number().int().optional(),
  mime_type: z.string().max(255).optional(),
});
export const FinalizeArtifactBody = z.object({
  ...ids,
  name,
  size: int64.default("0"),
  hash: z.string().max(200).optional(),
});
export const ListArtifactsBody = z.object({
  ...ids,
  name_filter: z.string().max(1024).optional(),
  id_filter: int64.optional(),
});
export const ArtifactNameBody = z.object({ ...ids, name });

export const ArtifactView = z.object({
  workflow_run_backend_id: z.string(),
  workflow_job_run_backend_id: z.string(),
  database_id: z.string(),
  name: z.string(),
  size: z.string(),
  created_at: z.string(),
  digest: z.string(),
});
export const BlobParams = z.object({ id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) });

// ------------------------------------------------- the API's view of a run's artifacts (run-artifacts.ts)

const positiveId = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
export { IdParams } from "./schemas.js";
export const RunArtifactParams = z.object({ id: positiveId, artifact: positiveId });

/** GET /runs/:id/artifacts: one finalized artifact. */
export const RunArtifactViewSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  size: z.number().int(),
  sha256: z.string(),
  runAttempt: z.number().int(),
  jobId: z.number().int(),
  jobAttempt: z.number().int(),
  /** The node whose job uploaded it (null once that node was removed). */
  nodeId: z.number().int().nullable(),
  trustTier: z.enum(["trusted", "untrusted"]),
  /** corroborated | trusted | unverified | mismatch (docs/integrity.md). */
  status: z.enum(["corroborated", "trusted", "unverified", "mismatch"]),
  createdAt: z.string(),
  expiresAt: z.string(),
  /** When and by whom it was promoted (the promotion gate); null: not promoted. */
  promotedAt: z.string().nullable(),
  promotedBy: z.string().nullable(),
});
export type RunArtifactView = z.infer<typeof RunArtifactViewSchema>;

// ------------------------------------------- a repository's artifact policy (routes/artifact-policy.ts)

/** PUT /repositories/:id/artifact-policy: the whole policy (absent fields: their defaults). */
/** Independent rebuilds (docs/integrity.md "Corroboration"). */
const Corroborate = z
  .object({
    /** Builds in all (the job and builds - 1 replicas), each by a different operator. */
    builds: z.number().int().min(1).max(9).default(1),
    /** How many identical builds make an artifact `corroborated` (at most builds). */
    agree: z.number().int().min(1).max(9).default(1),
    /** One more build on a trusted worker when the job ran on an untrusted one. */
    trustedBuild: z.boolean().default(false),
    /** Only jobs of these workflow files; null: every workflow. */
    workflows: z.array(z.string().min(1).max(256)).min(1).max(50).nullable().default(null),
  })
  .strict();

export const ArtifactPolicyBody = z
  .object({
    /** Bytes of finalized artifacts the repository may keep; null or absent: the server's default. */
    quotaBytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable().default(null),
    promote: z
      .object({
        requireStatus: z
          .array(z.enum(["corroborated", "trusted", "unverified"]))
          .min(1)
          .max(3)
          .default(["corroborated", "trusted"]),
        allowUntrustedRuns: z.boolean().default(false),
      })
      .strict()
      .default({ requireStatus: ["corroborated", "trusted"], allowUntrustedRuns: false }),
    corroborate: Corroborate.default({ builds: 1, agree: 1, trustedBuild: false, workflows: null }),
  })
  .strict();

export const ArtifactPolicyView = z.object({
  /** The repository's own quota; null: the server's default applies. */
  quotaBytes: z.number().int().nullable(),
  /** The quota in force and the finalized bytes it counts. */
  effectiveQuotaBytes: z.number().int(),
  usedBytes: z.number().int(),
  promote: z.object({
    requireStatus: z.array(z.enum(["corroborated", "trusted", "unverified"])),
    allowUntrustedRuns: z.boolean(),
  }),
  corroborate: z.object({
    builds: z.number().int(),
    agree: z.number().int(),
    trustedBuild: z.boolean(),
    workflows: z.array(z.string()).nullable(),
  }),
});
export type ArtifactPolicyViewT = z.infer<typeof ArtifactPolicyView>;

/** GET /runs/:id/mismatches: one report per quarantined artifact and differing rebuild. */
export const MismatchList = z.array(
  z.object({
    id: z.number().int(),
    /** null once the artifact expired or was removed (the report stays). */
    artifactId: z.number().int().nullable(),
    replicaJobId: z.number().int(),
    replicaArtifactId: z.number().int().nullable(),
    name: z.string(),
    builds: z.array(
      z.object({
        job: z.number().int(),
        node: z.string().nullable(),
        operator: z.string().nullable(),
        workerTrust: z.enum(["trusted", "untrusted"]),
        sha256: z.string().nullable(),
      }),
    ),
    /** diffArchives: onlyInA/onlyInB (A: the job's own build), changed entries, firstDifference. */
    diff: z
      .object({
        identical: z.boolean(),
        onlyInA: z.array(z.string()),
        onlyInB: z.array(z.string()),
        changed: z.array(
          z.object({
            path: z.string(),
            a: z.record(z.string(), z.unknown()),
            b: z.record(z.string(), z.unknown()),
          }),
        ),
        firstDifference: z
          .object({ path: z.string(), offset: z.number().int(), a: z.string(), b: z.string() })
          .optional(),
        /** The lists above hold at most 100 paths each; these are the totals. */
        counts: z.object({ onlyInA: z.number().int(), onlyInB: z.number().int(), changed: z.number().int() }),
      })
      .nullable(),
    note: z.string().nullable(),
    createdAt: z.string(),
  }),
);
