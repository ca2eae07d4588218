// The provenance operations of the OpenAPI document (routes/provenance.ts): the public keys that
// verify artifact provenance, from the route's own zod schemas.
import { responseSchema, type Operation } from "./openapi-parts.js";
import { ProvenanceKeysQuery, ProvenanceKeysView } from "./schemas-provenance.js";

export const PROVENANCE_OPERATIONS: Operation[] = [
  {
    method: "get",
    path: "/api/v1/provenance/keys",
    summary:
      "The Ed25519 public keys (PEM, keyid) that verify artifact provenance (DSSE envelopes), every organization's or one's; retired keys stay listed. Public: no token needed",
    security: "none",
    query: ProvenanceKeysQuery,
    ok: [200, responseSchema(ProvenanceKeysView)],
    errors: [400, 404],
  },
];
