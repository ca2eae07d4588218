// Issuers and their OpenID Connect discovery documents. Each organization is its own issuer,
// `<publicUrl>/orgs/<organization>`, serving `/.well-known/openid-configuration` and
// `/.well-known/jwks.json` under it (a relying party fetches `<iss>/.well-known/openid-configuration`,
// so every issuer needs its own). The instance-level documents at `<publicUrl>/.well-known/…` list
// every organization's keys, for verifiers configured with a JWKS URL rather than an issuer; no
// token names the instance as its issuer.
import { ALG } from "./keys.js";

export function issuerOf(publicUrl: string, organization: string): string {
  return `${publicUrl.replace(/\/+$/, "")}/orgs/${encodeURIComponent(organization)}`;
}

/** The claims a token may carry, for `claims_supported`. */
const CLAIMS = [
  "iss",
  "sub",
  "aud",
  "exp",
  "iat",
  "nbf",
  "jti",
  "organization",
  "organization_id",
  "repository",
  "repository_id",
  "repository_owner",
  "repository_owner_id",
  "ref",
  "ref_type",
  "sha",
  "event_name",
  "workflow",
  "workflow_ref",
  "workflow_sha",
  "run_id",
  "run_number",
  "run_attempt",
  "job",
  "job_attempt",
  "environment",
  "trust_tier",
  "actor",
];

/** The discovery document of `issuer` (an organization's, or the instance's base URL). */
export function discoveryDocument(issuer: string): Record<string, unknown> {
  return {
    issuer,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    subject_types_supported: ["public"],
    response_types_supported: ["id_token"],
    id_token_signing_alg_values_supported: [ALG],
    scopes_supported: ["openid"],
    claims_supported: CLAIMS,
  };
}
