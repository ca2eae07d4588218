// An OpenID Connect relying party for one configured provider (Keycloak, Dex, any compliant one):
// discovery, the authorization request (code flow, PKCE S256, state, nonce), and the callback: the
// code grant and the ID token's validation. openid-client does discovery, the authorization
// response (state, RFC 9207 `iss`), the token request and its own claim checks (iss, aud, azp,
// exp, nonce); then the ID token is verified once more with jose, because openid-client does not
// check signatures of tokens it got straight from the token endpoint over TLS: signature through
// the provider's JWKS, with OUR algorithm allow-list (never `none` or HS*), issuer, audience,
// expiry with a 30 s tolerance, nonce, and azp when there are several audiences.
//
// Time comes from `now` (tests pass their own clock; both libraries are given it). Plain http is
// allowed for a loopback issuer only (a provider on the same machine, and the tests).
import * as oidc from "openid-client";
import { createRemoteJWKSet, customFetch as joseFetch, jwtVerify, type JWTPayload } from "jose";
import { AirlockError, ErrorCode } from "../errors/index.js";
import { SsoRefusal, describeError } from "./sso-refusal.js";
import type { ExternalIdentity, OidcSettings } from "./sso-types.js";

/** Leeway for exp/iat/nbf against the provider's clock. */
export const OIDC_CLOCK_TOLERANCE_S = 30;
const TIMEOUT_S = 10;

export interface OidcClientOptions {
  /** Where the provider sends the browser back (registered at the provider). */
  redirectUri: string;
  /** Milliseconds since the epoch (default Date.now). */
  now?: () => number;
  /** The HTTP client for discovery, JWKS, token and userinfo requests (default: global fetch). */
  fetch?: typeof fetch;
}

/** What the authorization request and the callback share (from the pending login). */
export interface LoginSecrets {
  state: string;
  nonce: string;
  codeVerifier: string;
}

interface Discovered {
  server: oidc.ServerMetadata;
  jwks: ReturnType<typeof createRemoteJWKSet>;
}

export function isLoopbackUrl(u: string): boolean {
  try {
    const h = new URL(u).hostname;
    return h === "localhost" || h === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(h);
  } catch {
    return false;
  }
}

export class OidcClient {
  readonly settings: OidcSettings;
  readonly #redirectUri: string;
  readonly #now: () => number;
  readonly #fetch: typeof fetch | undefined;
  #discovered: Promise<Discovered> | undefined;

  constructor(settings: OidcSettings, o: OidcClientOptions) {
    this.settings = settings;
    this.#redirectUri = o.redirectUri;
    this.#now = o.now ?? Date.now;
    this.#fetch = o.fetch;
  }

  /** The provider's metadata, fetched once (again after a failure). */
  #discover(): Promise<Discovered> {
    this.#discovered ??= this.#fetchMetadata().catch((e: unknown) => {
      this.#discovered = undefined;
      throw new AirlockError(
        ErrorCode.SSO_PROVIDER_UNAVAILABLE,
        `the sign-in provider ${this.settings.name} cannot be reached: try again later`,
        { retryable: true, cause: e },
      );
    });
    return this.#discovered;
  }

  async #fetchMetadata(): Promise<Discovered> {
    const s = this.settings;
    const insecure = isLoopbackUrl(s.issuer) ? [oidc.allowInsecureRequests] : [];
    const config = await oidc.discovery(new URL(s.issuer), s.clientId, undefined, undefined, {
      execute: insecure,
      timeout: TIMEOUT_S,
      ...(this.#fetch ? { [oidc.customFetch]: this.#fetch } : {}),
    });
    const server = config.serverMetadata();
    if (!server.jwks_uri) throw new Error("the provider publishes no jwks_uri");
    const jwks = createRemoteJWKSet(new URL(server.jwks_uri), {
      timeoutDuration: TIMEOUT_S * 1000,
      ...(this.#fetch ? { [joseFetch]: this.#fetch } : {}),
    });
    return { server, jwks };
  }

  /** A configuration for one request, with the current clock and client authentication. */
  #config(server: oidc.ServerMetadata): oidc.Configuration {
    const s = this.settings;
    const methods = server.token_endpoint_auth_methods_supported;
    // client_secret_basic is the default of the specification; post when that is all there is.
    const auth =
      !methods || methods.includes("client_secret_basic")
        ? oidc.ClientSecretBasic(s.clientSecret)
        : oidc.ClientSecretPost(s.clientSecret);
    const config = new oidc.Configuration(
      server,
      s.clientId,
      {
        [oidc.clockSkew]: Math.round((this.#now() - Date.now()) / 1000),
        [oidc.clockTolerance]: OIDC_CLOCK_TOLERANCE_S,
      },
      auth,
    );
    if (isLoopbackUrl(s.issuer)) oidc.allowInsecureRequests(config);
    if (this.#fetch) config[oidc.customFetch] = this.#fetch;
    config.timeout = TIMEOUT_S;
    return config;
  }

  /** Where to send the browser: the provider's authorization endpoint with every parameter. */
  async authorizationUrl(p: LoginSecrets): Promise<URL> {
    const { server } = await this.#discover();
    return oidc.buildAuthorizationUrl(this.#config(server), {
      redirect_uri: this.#redirectUri,
      scope: this.settings.scopes.join(" "),
      state: p.state,
      nonce: p.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(p.codeVerifier),
      code_challenge_method: "S256",
    });
  }

  /**
   * The callback: checks the authorization response, redeems the code (with the PKCE verifier),
   * validates the ID token and reads the user's claims (the userinfo endpoint's added, when there
   * is one, for claims the ID token leaves out). Throws SsoRefusal.
   */
  async identify(params: URLSearchParams, p: LoginSecrets): Promise<ExternalIdentity> {
    const { server, jwks } = await this.#discover().catch((e: unknown) => {
      throw new SsoRefusal("provider_unavailable", describeError(e), { cause: e });
    });
    const config = this.#config(server);
    const current = new URL(this.#redirectUri);
    for (const [k, v] of params) current.searchParams.append(k, v);
    let tokens: oidc.TokenEndpointResponse;
    try {
      tokens = await oidc.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: p.codeVerifier,
        expectedState: p.state,
        expectedNonce: p.nonce,
        idTokenExpected: true,
      });
    } catch (e) {
      // The provider's error code only (e.g. access_denied, invalid_grant): its description is
      // its own prose.
      const detail =
        e instanceof oidc.AuthorizationResponseError || e instanceof oidc.ResponseBodyError
          ? e.error.slice(0, 64)
          : describeError(e);
      throw new SsoRefusal(refusalReason(e), detail, { cause: e });
    }
    const claims = await this.#verifyIdToken(tokens.id_token, server, jwks, p.nonce);
    const merged: Record<string, unknown> = { ...claims };
    if (server.userinfo_endpoint && tokens.access_token) {
      try {
        // The userinfo answer must be about the same subject (checked by openid-client).
        const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
        for (const [k, v] of Object.entries(info)) if (!(k in merged) || k === "groups") merged[k] = v;
      } catch (e) {
        throw new SsoRefusal("userinfo_failed", describeError(e), { cause: e });
      }
    }
    return toIdentity(this.settings, claims.sub, merged);
  }

  async #verifyIdToken(
    idToken: string | undefined,
    server: oidc.ServerMetadata,
    jwks: Discovered["jwks"],
    nonce: string,
  ): Promise<JWTPayload & { sub: string }> {
    if (!idToken) throw new SsoRefusal("token_invalid", "no ID token in the token response");
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(idToken, jwks, {
        issuer: server.issuer,
        audience: this.settings.clientId,
        algorithms: this.settings.algorithms,
        currentDate: new Date(this.#now()),
        clockTolerance: OIDC_CLOCK_TOLERANCE_S,
        requiredClaims: ["iss", "aud", "exp", "iat", "sub"],
      }));
    } catch (e) {
      throw new SsoRefusal("token_invalid", describeError(e), { cause: e });
    }
    if (payload.nonce !== nonce) throw new SsoRefusal("token_invalid", "nonce mismatch");
    if (Array.isArray(payload.aud) && payload.aud.length > 1 && payload.azp !== this.settings.clientId)
      throw new SsoRefusal("token_invalid", "several audiences and azp is not this client");
    if (typeof payload.sub !== "string" || payload.sub.length === 0 || payload.sub.length > 255)
      throw new SsoRefusal("token_invalid", "sub missing or longer than 255 characters");
    return payload as JWTPayload & { sub: string };
  }
}

/** The provider said no (error=…), or the answer did not validate. */
function refusalReason(e: unknown): string {
  if (e instanceof oidc.AuthorizationResponseError) return "provider_error";
  if (e instanceof oidc.ResponseBodyError) return "token_request_refused";
  if (e instanceof TypeError || (e instanceof Error && e.name === "AbortError"))
    return "provider_unavailable";
  return "token_invalid";
}

function str(v: unknown, max = 256): string | undefined {
  return typeof v === "string" && v.length > 0 ? v.slice(0, max) : undefined;
}

/** A claim by dotted path (e.g. `realm_access.roles`); an exact top-level key wins. */
function claimAt(claims: Record<string, unknown>, path: string): unknown {
  if (path in claims) return claims[path];
  let v: unknown = claims;
  for (const part of path.split(".")) {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

function toIdentity(s: OidcSettings, sub: string, claims: Record<string, unknown>): ExternalIdentity {
  const email = str(claims.email);
  const identity: ExternalIdentity = { provider: `oidc:${s.id}`, subject: sub };
  const username = str(claims.preferred_username) ?? str(claims.nickname) ?? email?.split("@")[0];
  if (username !== undefined) identity.username = username;
  const name = str(claims.name);
  if (name !== undefined) identity.displayName = name;
  if (email !== undefined) identity.email = email;
  if (s.groupsClaim !== undefined) {
    const g = claimAt(claims, s.groupsClaim);
    const list = typeof g === "string" ? [g] : Array.isArray(g) ? g : [];
    identity.groups = list.filter((x): x is string => typeof x === "string").slice(0, 1000);
  }
  return identity;
}
