// The provenance keys call of the REST API v1 for the CLI (public: no token is sent). Shapes come
// from the server's route schemas (src/server/schemas-provenance.ts).
import type { ProvenanceKeysView } from "../../server/schemas-provenance.js";
import type { ApiClient } from "./client.js";

export type { ProvenanceKeysView, ProvenanceKeyView } from "../../server/schemas-provenance.js";

export function provenanceKeys(c: ApiClient, organization?: string): Promise<ProvenanceKeysView> {
  const q = organization === undefined ? "" : `?organization=${encodeURIComponent(organization)}`;
  return c.json("GET", `/api/v1/provenance/keys${q}`);
}
