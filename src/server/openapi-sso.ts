// The single sign-on operations of the OpenAPI document (routes/sso.ts): the public list of ways
// to log in, and the start and callback of each OpenID Connect provider and forge.
import { arr, bool, obj, str, type Operation } from "./openapi-parts.js";
import * as S from "./schemas.js";

const startSummary = (what: string): string =>
  `Start logging in with ${what}: 302 to the provider, with a short-lived HttpOnly cookie binding the login to this browser; return is a path under the public URL (anything else means /)`;
const callbackSummary = (what: string): string =>
  `The provider's redirect back (${what}): on success a NEW session cookie (any earlier session ended) and 302 to the return path; refused: SSO_FAILED (one line, details in the audit log), RATE_LIMITED after repeated failures from one client`;

export const SSO_OPERATIONS: Operation[] = [
  {
    method: "get",
    path: "/api/v1/auth/providers",
    summary:
      "The ways to log in: whether password login is on, and each single sign-on provider with its start URL",
    security: "none",
    ok: [
      200,
      obj({
        passwordLogin: bool,
        providers: arr(
          obj({
            id: str,
            name: str,
            kind: { enum: ["oidc", "github", "gitlab", "bitbucket"] },
            startUrl: str,
          }),
        ),
      }),
    ],
  },
  {
    method: "get",
    path: "/api/v1/auth/oidc/:provider/start",
    summary: startSummary("an OpenID Connect provider (authorization code, PKCE S256, state, nonce)"),
    security: "none",
    params: S.OidcParams,
    query: S.SsoStartQuery,
    ok: [302, "Redirect to the provider's authorization endpoint"],
    errors: [400, 404, 429, 502],
  },
  {
    method: "get",
    path: "/api/v1/auth/oidc/:provider/callback",
    summary: callbackSummary(
      "ID token validated: signature through the provider's JWKS, algorithm, iss, aud, exp, nonce",
    ),
    security: "none",
    params: S.OidcParams,
    query: S.SsoCallbackQuery,
    ok: [302, "Logged in: redirect to the return path"],
    errors: [400, 401, 404, 429],
  },
  {
    method: "get",
    path: "/api/v1/auth/oauth/:forge/start",
    summary: startSummary("GitHub, GitLab or Bitbucket OAuth (state; PKCE where the forge supports it)"),
    security: "none",
    params: S.ForgeParams,
    query: S.SsoStartQuery,
    ok: [302, "Redirect to the forge's authorization page"],
    errors: [400, 404, 429],
  },
  {
    method: "get",
    path: "/api/v1/auth/oauth/:forge/callback",
    summary: callbackSummary("the user is identified by the forge's immutable user id, never the login name"),
    security: "none",
    params: S.ForgeParams,
    query: S.SsoCallbackQuery,
    ok: [302, "Logged in: redirect to the return path"],
    errors: [400, 401, 404, 429],
  },
];
