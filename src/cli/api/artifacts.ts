// The artifact policy and promotion calls of the REST API v1 for the CLI. Shapes come from the
// server's route schemas (src/server/schemas-artifacts.ts).
import type { z } from "zod";
import type {
  ArtifactPolicyBody,
  ArtifactPolicyViewT,
  RunArtifactView,
} from "../../server/schemas-artifacts.js";
import type { ApiClient } from "./client.js";

export type ArtifactPolicyView = ArtifactPolicyViewT;
export type ArtifactPolicyInput = z.input<typeof ArtifactPolicyBody>;

export function artifactPolicy(c: ApiClient, repositoryId: number): Promise<ArtifactPolicyView> {
  return c.json("GET", `/api/v1/repositories/${repositoryId}/artifact-policy`);
}

/** Replaces the whole policy (absent fields: their defaults). */
export function setArtifactPolicy(
  c: ApiClient,
  repositoryId: number,
  body: ArtifactPolicyInput,
): Promise<ArtifactPolicyView> {
  return c.json("PUT", `/api/v1/repositories/${repositoryId}/artifact-policy`, body);
}

export function promoteArtifact(c: ApiClient, runId: number, artifactId: number): Promise<RunArtifactView> {
  return c.json("POST", `/api/v1/runs/${runId}/artifacts/${artifactId}/promote`);
}
