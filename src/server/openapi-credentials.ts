// The job-source credential operations of the OpenAPI document (routes/credentials.ts) and the
// organization delete, with request schemas from schemas-credentials.ts — what the routes enforce.
import { arr, obj, str, strOrNull, type Json, type Operation } from "./openapi-parts.js";
import { NameParams, IdParams } from "./schemas.js";
import { CredentialParams, SetCredential } from "./schemas-credentials.js";

const Credential: Json = obj({
  kind: { enum: ["webhook-secret", "clone-password", "deploy-key", "forge-token"] },
  setAt: str,
  setBy: strOrNull,
});

export const CREDENTIALS_OPERATIONS: Operation[] = [
  {
    method: "get",
    path: "/api/v1/repositories/:id/credentials",
    summary: "Which job-source credentials a repository has, when and by whom they were set — never values",
    params: IdParams,
    ok: [200, arr(Credential)],
    errors: [400, 404],
  },
  {
    method: "put",
    path: "/api/v1/repositories/:id/credentials/:kind",
    summary:
      "Set a clone-password (value; username, default x-access-token), a deploy-key (value: the SSH private key; knownHosts: known_hosts lines of the server) or a forge-token (value): sealed under the organization's key, write-only",
    params: CredentialParams,
    body: SetCredential,
    ok: [200, Credential],
    errors: [400, 404, 503],
  },
  {
    method: "delete",
    path: "/api/v1/repositories/:id/credentials/:kind",
    summary: "Remove a repository's clone-password, deploy-key or forge-token",
    params: CredentialParams,
    ok: [204, "Deleted"],
    errors: [400, 404],
  },
  {
    method: "delete",
    path: "/api/v1/organizations/:name",
    summary:
      "Delete an organization with its repositories, runs, secrets, variables, grants and tokens; its data key is destroyed first (crypto-shredding). Refused (409) for default and while a run is active",
    params: NameParams,
    ok: [204, "Deleted"],
    errors: [404, 409],
  },
];
