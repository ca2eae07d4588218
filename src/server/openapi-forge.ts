// The forge operations of the OpenAPI document (routes/forge.ts), with the request schema from
// schemas-forge.ts — what the route enforces.
import { bool, obj, str, strOrNull, type Json, type Operation } from "./openapi-parts.js";
import { IdParams } from "./schemas.js";
import { RepositoryForgeBody } from "./schemas-forge.js";

const kinds = ["github", "gitlab", "gitea", "bitbucket"];
const RepositoryForge: Json = obj({
  id: { type: "integer" },
  name: str,
  kind: { enum: [...kinds, null] },
  apiUrl: strOrNull,
  resolved: {
    oneOf: [{ type: "null" }, obj({ kind: { enum: kinds }, apiUrl: str, path: str })],
  },
  problem: strOrNull,
  serverUrl: {
    ...strOrNull,
    description: "the forge's web address: the jobs' GITHUB_SERVER_URL (null: Airlock's own)",
  },
  forgeToken: bool,
});

export const FORGE_OPERATIONS: Operation[] = [
  {
    method: "get",
    path: "/api/v1/repositories/:id/forge",
    summary:
      "Where the repository's commit statuses go: the forge kind and API URL set (null: inferred from the clone URL or webhooks), what they resolve to, and whether a forge token is set",
    params: IdParams,
    ok: [200, RepositoryForge],
    errors: [404],
  },
  {
    method: "put",
    path: "/api/v1/repositories/:id/forge",
    summary:
      "Set the forge kind (github, gitlab, gitea, bitbucket) and/or API URL commit statuses are sent to; null clears a field back to inferred",
    params: IdParams,
    body: RepositoryForgeBody,
    ok: [200, RepositoryForge],
    errors: [400, 404],
  },
];
