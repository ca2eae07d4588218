// What single sign-on is configured from (compiled by the server's configuration module: secrets
// already read from their files) and what a provider says about a user after a login. Plain types,
// no behaviour: the OpenID Connect client, the forge clients, the user store and the login flow
// all speak these.

import type { Role } from "./roles.js";

/** What membership of one group gives (several may apply; the highest role per object wins). */
export type GroupGrant =
  | { kind: "server-admin" }
  | { kind: "organization"; organization: string; role: Role }
  | { kind: "repository"; organization: string; repository: string; role: Role };

/** ID-token signature algorithms that may be allowed: asymmetric only (never `none` or HS*). */
export const OIDC_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
] as const;
export type OidcAlgorithm = (typeof OIDC_ALGORITHMS)[number];
export const DEFAULT_OIDC_ALGORITHMS: OidcAlgorithm[] = ["RS256", "ES256", "PS256", "EdDSA"];
export const DEFAULT_OIDC_SCOPES = ["openid", "profile", "email"];

export interface OidcSettings {
  /** Slug used in URLs and in identities (`oidc:<id>`): renaming it detaches existing users. */
  id: string;
  name: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
  scopes: string[];
  algorithms: OidcAlgorithm[];
  /** Claim holding the user's groups (a dotted path such as `realm_access.roles` works too). */
  groupsClaim?: string;
  /** Group name → what it gives; only used with groupsClaim. */
  groupRoles: Record<string, GroupGrant[]>;
}

export const FORGES = ["github", "gitlab", "bitbucket"] as const;
export type ForgeKind = (typeof FORGES)[number];

export interface ForgeSettings {
  kind: ForgeKind;
  name: string;
  clientId: string;
  clientSecret: string;
  /** Where the browser authorizes and the token endpoint is: https://github.com, https://gitlab.com, https://bitbucket.org. */
  url: string;
  /** The REST API: https://api.github.com, <url>/api/v4, https://api.bitbucket.org/2.0. */
  apiUrl: string;
}

export interface SsoSettings {
  /** False: password login is refused and the bootstrap `admin` user is not made. */
  builtinUsers: boolean;
  oidc: OidcSettings[];
  forges: ForgeSettings[];
}

export const DEFAULT_SSO_SETTINGS: SsoSettings = { builtinUsers: true, oidc: [], forges: [] };

/** A user as a provider vouched for them at the end of a login. */
export interface ExternalIdentity {
  /** 'oidc:<id>', 'github', 'gitlab' or 'bitbucket'. */
  provider: string;
  /** The provider's immutable user id (never a name or an e-mail address). */
  subject: string;
  /** A login name to derive the Airlock user name from at the first login (may have changed since). */
  username?: string;
  displayName?: string;
  email?: string;
  /** Group names, when the provider is configured with a groups claim. */
  groups?: string[];
}
