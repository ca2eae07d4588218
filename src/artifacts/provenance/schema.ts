// What a verifier accepts as provenance: the DSSE JSON envelope, and inside it an in-toto
// Statement v1 with a SLSA Provenance v1 predicate. Only the fields a check reads are required;
// unknown fields are ignored, as both specs' parsing rules demand. A statement produced by another
// builder parses too: the policy then decides whether its parameters are acceptable.
import { z } from "zod";
import { PREDICATE_TYPE, STATEMENT_TYPE } from "./statement.js";

export const EnvelopeSchema = z.object({
  payload: z.string(),
  payloadType: z.string(),
  // DSSE: an unset keyid is the same as an empty one; some producers write null.
  signatures: z
    .array(
      z.object({
        keyid: z
          .string()
          .nullish()
          .transform((k) => k || undefined),
        sig: z.string(),
      }),
    )
    .min(1),
});

const DigestSet = z.record(z.string(), z.string());

const ResourceDescriptorSchema = z
  .object({
    name: z.string().optional(),
    uri: z.string().optional(),
    digest: DigestSet.optional(),
    content: z.string().optional(),
    downloadLocation: z.string().optional(),
    mediaType: z.string().optional(),
    annotations: z.record(z.string(), z.unknown()).optional(),
  })
  .refine((r) => r.uri !== undefined || r.digest !== undefined || r.content !== undefined, {
    message: "a ResourceDescriptor needs one of uri, digest or content",
  });

export const StatementSchema = z.object({
  _type: z.literal(STATEMENT_TYPE),
  subject: z.array(z.object({ name: z.string().optional(), digest: DigestSet })).min(1),
  predicateType: z.literal(PREDICATE_TYPE),
  predicate: z.object({
    buildDefinition: z.object({
      buildType: z.string().min(1),
      externalParameters: z.record(z.string(), z.unknown()),
      internalParameters: z.record(z.string(), z.unknown()).optional(),
      resolvedDependencies: z.array(ResourceDescriptorSchema).optional(),
    }),
    runDetails: z.object({
      builder: z.object({
        id: z.string().min(1),
        builderDependencies: z.array(ResourceDescriptorSchema).optional(),
        version: z.record(z.string(), z.string()).optional(),
      }),
      metadata: z
        .object({
          invocationId: z.string().optional(),
          startedOn: z.string().optional(),
          finishedOn: z.string().optional(),
        })
        .optional(),
      byproducts: z.array(ResourceDescriptorSchema).optional(),
    }),
  }),
});
export type ParsedStatement = z.infer<typeof StatementSchema>;

/** The first few problems of a zod error, on one line. */
export function issuesLine(error: z.ZodError, max = 3): string {
  const parts = error.issues.slice(0, max).map((i) => `${i.path.join(".") || "(top)"}: ${i.message}`);
  return parts.join("; ") + (error.issues.length > max ? `; and ${error.issues.length - max} more` : "");
}
