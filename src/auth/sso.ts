// Single sign-on, start to finish, independent of HTTP: the configured providers (OpenID Connect
// and forges), the start of a login (a pending login, the provider's authorization URL) and its
// callback (the pending login used up, the provider's answer validated, the user found or made,
// roles mapped from groups, a new session). Every callback outcome goes to the audit log
// (`login.succeeded` / `login.failed` with the method and, when known, the user); the caller gets
// one line that names nothing (SSO_FAILED). Failed callbacks are throttled per client address,
// and so are starts (each one stores a row until it expires).
import type pg from "pg";
import { appendAudit } from "../audit/index.js";
import { AirlockError, ErrorCode } from "../errors/index.js";
import { findOrCreateExternalUser } from "./external-users.js";
import { forgeAuthorizationUrl, forgeIdentity } from "./forges.js";
import { ADDRESS_POLICY, addressKey, rateLimitedError } from "./login-throttle.js";
import { OidcClient } from "./oidc.js";
import {
  beginPendingLogin,
  takePendingLogin,
  PENDING_LOGIN_MS,
  type PendingLogin,
} from "./pending-logins.js";
import { applyGroupMapping } from "./role-mapping.js";
import { createSession, type NewSession } from "./sessions.js";
import { SsoRefusal, describeError } from "./sso-refusal.js";
import type { ExternalIdentity, ForgeSettings, GroupGrant, SsoSettings } from "./sso-types.js";
import { MemoryFailureLimiter, type FailureLimiter, type FailurePolicy } from "./throttle.js";
import { getUser, type User } from "./users.js";

export const SSO_FAILED = "single sign-on failed: start again from the login page";

/** Starts per client address: 60 within 10 minutes, then a pause (each start stores a row). */
export const START_POLICY: FailurePolicy = {
  maxFailures: 60,
  windowMs: 10 * 60_000,
  lockBaseMs: 60_000,
  lockMaxMs: 15 * 60_000,
  forgetMs: 60 * 60_000,
};

export type ProviderKind = "oidc" | ForgeSettings["kind"];

export interface SsoProvider {
  /** 'oidc:<id>' or the forge's kind: the identity's provider and the audit log's method. */
  key: string;
  kind: ProviderKind;
  /** The URL segment: the OIDC provider's id, or the forge's kind. */
  id: string;
  name: string;
  /** Group name → grants (OIDC with a groups claim only). */
  mapping: Record<string, GroupGrant[]> | undefined;
  authorizationUrl(p: PendingLogin): Promise<URL>;
  identify(params: URLSearchParams, p: PendingLogin): Promise<ExternalIdentity>;
}

export interface Client {
  address: string;
  userAgent?: string;
}

export interface SsoOptions {
  /** The callback URL of a provider: `(kind, id) => <public URL>/api/v1/auth/.../callback`. */
  redirectUri: (kind: ProviderKind, id: string) => string;
  now?: () => number;
  fetch?: typeof fetch;
  /** Failed callbacks per client address (default: 20 in 15 minutes, as password logins). */
  failures?: FailureLimiter;
  starts?: FailureLimiter;
}

export interface SsoLogin {
  user: User;
  session: NewSession;
  created: boolean;
  returnTo: string;
}

export class SingleSignOn {
  readonly providers: SsoProvider[];
  readonly #pool: pg.Pool;
  readonly #now: () => number;
  readonly #failures: FailureLimiter;
  readonly #starts: FailureLimiter;

  constructor(pool: pg.Pool, settings: SsoSettings, o: SsoOptions) {
    this.#pool = pool;
    this.#now = o.now ?? Date.now;
    const clock = { now: this.#now };
    this.#failures = o.failures ?? new MemoryFailureLimiter(ADDRESS_POLICY, clock);
    this.#starts = o.starts ?? new MemoryFailureLimiter(START_POLICY, clock);
    const http = o.fetch === undefined ? {} : { fetch: o.fetch };
    this.providers = [
      ...settings.oidc.map((s): SsoProvider => {
        const client = new OidcClient(s, {
          redirectUri: o.redirectUri("oidc", s.id),
          now: this.#now,
          ...http,
        });
        return {
          key: `oidc:${s.id}`,
          kind: "oidc",
          id: s.id,
          name: s.name,
          mapping: s.groupsClaim === undefined ? undefined : s.groupRoles,
          authorizationUrl: (p) => client.authorizationUrl(p),
          identify: (params, p) => client.identify(params, p),
        };
      }),
      ...settings.forges.map((s): SsoProvider => {
        const redirectUri = o.redirectUri(s.kind, s.kind);
        return {
          key: s.kind,
          kind: s.kind,
          id: s.kind,
          name: s.name,
          mapping: undefined,
          authorizationUrl: (p) => forgeAuthorizationUrl(s, { ...p, redirectUri }),
          identify: (params, p) => forgeIdentity(s, params, { ...p, redirectUri }, o.fetch),
        };
      }),
    ];
  }

  /** A configured provider; `oidc` kinds by id, forges by kind. NOT_FOUND otherwise. */
  provider(kind: "oidc" | "oauth", id: string): SsoProvider {
    const p = this.providers.find(
      (x) => (kind === "oidc" ? x.kind === "oidc" : x.kind !== "oidc") && x.id === id,
    );
    if (!p)
      throw new AirlockError(ErrorCode.NOT_FOUND, `no sign-in provider ${JSON.stringify(id.slice(0, 40))}`);
    return p;
  }

  /** Begins a login: the URL to send the browser to, and the secret for its cookie. */
  async start(
    p: SsoProvider,
    returnTo: string,
    client: Client,
  ): Promise<{ redirect: URL; browserSecret: string; maxAgeMs: number }> {
    const key = addressKey(client.address);
    const d = await this.#starts.check(key);
    if (!d.allowed) throw rateLimitedError(d.retryAfterMs);
    await this.#starts.recordFailure(key);
    const pending = await beginPendingLogin(this.#pool, { provider: p.key, returnTo, now: this.#now() });
    const redirect = await p.authorizationUrl(pending);
    return { redirect, browserSecret: pending.browserSecret, maxAgeMs: PENDING_LOGIN_MS };
  }

  /**
   * The provider's callback. On success: a new complete session (or one waiting for the second
   * factor when the user has TOTP in Airlock). On failure: SSO_FAILED or RATE_LIMITED, audited
   * (a failure that is not a refusal, such as the database's, is audited and thrown as it is).
   */
  async finish(
    p: SsoProvider,
    params: URLSearchParams,
    browserSecret: string | undefined,
    client: Client,
  ): Promise<SsoLogin> {
    const key = addressKey(client.address);
    const d = await this.#failures.check(key);
    if (!d.allowed) throw rateLimitedError(d.retryAfterMs);
    // Counted before the (slow) provider round trips; taken back on success.
    await this.#failures.recordFailure(key);
    let user: User | undefined;
    try {
      const states = params.getAll("state");
      const taken = await takePendingLogin(this.#pool, {
        provider: p.key,
        state: states.length === 1 ? states[0] : undefined,
        browserSecret,
        now: this.#now(),
      });
      if (!taken.ok) throw new SsoRefusal(taken.reason);
      const identity = await p.identify(params, taken.login);
      const found = await findOrCreateExternalUser(this.#pool, identity, { clientAddress: client.address });
      user = found.user;
      if (user.disabled) throw new SsoRefusal("user_disabled");
      if (p.mapping !== undefined) {
        const mapped = await applyGroupMapping(this.#pool, {
          userId: user.id,
          userName: user.name,
          mappedBy: p.key,
          groups: identity.groups ?? [],
          mapping: p.mapping,
          clientAddress: client.address,
        });
        if (mapped.changed) user = (await getUser(this.#pool, user.id)) ?? user;
      }
      const session = await createSession(this.#pool, user.id, {
        complete: !user.mfa,
        clientAddress: client.address,
        ...(client.userAgent !== undefined ? { userAgent: client.userAgent } : {}),
      });
      await this.#failures.forgive(key);
      await appendAudit(this.#pool, {
        actor: { kind: "user", id: user.id, display: user.name },
        action: "login.succeeded",
        object: { kind: "user", id: user.id },
        clientAddress: client.address,
        details: { method: p.key, created: found.created, mfaRequired: user.mfa },
      });
      return { user, session, created: found.created, returnTo: taken.login.returnTo };
    } catch (e) {
      const refusal =
        e instanceof SsoRefusal ? e : new SsoRefusal("internal_error", describeError(e), { cause: e });
      await appendAudit(this.#pool, {
        actor: user ? { kind: "user", id: user.id, display: user.name } : { kind: "anonymous" },
        action: "login.failed",
        object: user ? { kind: "user", id: user.id } : null,
        clientAddress: client.address,
        details: {
          method: p.key,
          reason: refusal.reason,
          ...(refusal.detail !== undefined ? { detail: refusal.detail } : {}),
        },
      });
      // A bug or a database failure goes on as it is (logged, 500); a refusal is one line.
      if (!(e instanceof SsoRefusal)) throw e;
      throw new AirlockError(ErrorCode.SSO_FAILED, SSO_FAILED, { cause: e });
    }
  }
}
