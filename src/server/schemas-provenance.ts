// Zod schemas of GET /api/v1/provenance/keys (routes/provenance.ts): the public keys that verify
// artifact provenance. They feed the OpenAPI document and the CLI's types.
import { z } from "zod";

export const ProvenanceKeysQuery = z.strictObject({
  /** Only this organization's keys. */
  organization: z.string().min(1).max(100).optional(),
});

export const ProvenanceKeyView = z.object({
  keyid: z.string().describe("SHA-256 (hex) of the public key's SubjectPublicKeyInfo DER; the DSSE keyid"),
  alg: z.literal("ed25519"),
  organization: z.string(),
  pem: z.string().describe("The public key, PEM (SPKI)"),
  createdAt: z.string(),
  retiredAt: z.string().nullable().describe("Set once the key no longer signs; it still verifies"),
});
export type ProvenanceKeyView = z.infer<typeof ProvenanceKeyView>;

export const ProvenanceKeysView = z.object({ keys: z.array(ProvenanceKeyView) });
export type ProvenanceKeysView = z.infer<typeof ProvenanceKeysView>;
