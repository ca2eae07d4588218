// The job identity operations of the OpenAPI document (routes/job-identity.ts): discovery
// documents and key sets (public), the agent's request for a job's identity token, and manual
// signing key rotation.
import { z } from "zod";
import { arr, obj, str, type Json, type Operation } from "./openapi-parts.js";
import { NameParams } from "./schemas.js";

const OrgParams = z.object({ org: z.string() });
const AudienceQuery = z.object({ audience: z.string().optional() });
const discovery: Json = {
  type: "object",
  description:
    "OpenID Connect discovery document (issuer, jwks_uri, id_token_signing_alg_values_supported: RS256, claims_supported)",
};
const jwks = obj({
  keys: arr({ type: "object", description: "A public JWK (kty RSA, n, e, kid, alg RS256, use sig)" }),
});

export const IDENTITY_OPERATIONS: Operation[] = [
  {
    method: "get",
    path: "/.well-known/openid-configuration",
    summary:
      "Instance-level discovery document: jwks_uri lists every organization's keys (tokens name their organization's issuer, /orgs/<org>)",
    security: "none",
    ok: [200, discovery],
  },
  {
    method: "get",
    path: "/.well-known/jwks.json",
    summary: "Every organization's job identity public keys (signing and still-published retired ones)",
    security: "none",
    ok: [200, jwks],
  },
  {
    method: "get",
    path: "/orgs/:org/.well-known/openid-configuration",
    summary: "An organization's discovery document: the issuer of its jobs' identity tokens",
    security: "none",
    params: OrgParams,
    ok: [200, discovery],
    errors: [404],
  },
  {
    method: "get",
    path: "/orgs/:org/.well-known/jwks.json",
    summary:
      "An organization's job identity public keys; a retired key stays until every token it signed has expired",
    security: "none",
    params: OrgParams,
    ok: [200, jwks],
    errors: [404],
  },
  {
    method: "get",
    path: "/api/v1/agent/id-token",
    summary:
      "A node agent asks for a job's identity token with the job attempt's request token (Bearer alk_idt_…, sent in assign); 401 once the attempt has ended or is being cancelled, 429 while the client is throttled or once the attempt has had its 50 tokens",
    security: "none",
    query: AudienceQuery,
    ok: [200, obj({ value: str })],
    errors: [400, 401, 429],
  },
  {
    method: "post",
    path: "/api/v1/organizations/:name/id-token-keys/rotate",
    summary:
      "Retire the organization's signing key now and make a new one (the old stays published until its tokens expire)",
    params: NameParams,
    ok: [200, obj({ kid: str })],
    errors: [404],
  },
];
