// The OpenID Connect test fixture: a real OpenID Provider (oidc-provider 8) with three clients —
// Airlock's ("airlock", RS256), one whose ID tokens are HS256 ("airlock-hs", outside Airlock's
// allow-list) and another relying party ("other-rp") — a fresh database, and a SingleSignOn over
// both whose clock (`offsetMs`) and HTTP client (`intercept`, to alter the provider's answers on
// their way) a test may change. `flow` plays one browser's login up to the callback.
import assert from "node:assert/strict";
import {
  DEFAULT_OIDC_ALGORITHMS,
  SingleSignOn,
  type OidcSettings,
  type SsoLogin,
} from "../../src/auth/index.js";
import { isAirlockError } from "../../src/errors/index.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { startOidcProvider, type TestProvider } from "../helpers/oidc-provider.js";

const RP = "https://ci.example.test/cb";
const SECRET = "airlock-client-secret-for-the-tests";
const HS_SECRET = "a-symmetric-secret-that-is-long-enough-for-hs256!";
export const OTHER_SECRET = "other-relying-party-secret";

export interface Flow {
  start: { redirect: URL; browserSecret: string };
  back: URL;
  finish(o?: { params?: URLSearchParams; browserSecret?: string }): Promise<SsoLogin>;
}

export interface OidcFixture {
  db: TestDatabase;
  op: TestProvider;
  sso: SingleSignOn;
  tokenEndpoint: string;
  authorizationEndpoint: string;
  /** Added to Airlock's clock (not the provider's). */
  offsetMs: number;
  /** Replaces the answer to one of Airlock's requests to the provider; undefined: passed on. */
  intercept: ((url: string, init: RequestInit | undefined) => Promise<Response> | undefined) | undefined;
  /** Starts a login, plays the browser at the provider as `sub`, and returns the way back. */
  flow(provider: string, sub: string, alter?: (u: URL) => void): Promise<Flow>;
  /** Expects SSO_FAILED and a `login.failed` entry with `reason`; returns its details. */
  refused(p: Promise<unknown>, reason: string): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function startOidcFixture(): Promise<OidcFixture> {
  const db = await createTestDatabase();
  const op = await startOidcProvider({
    clients: [
      { client_id: "airlock", client_secret: SECRET, redirect_uris: [`${RP}/corp`] },
      {
        client_id: "airlock-hs",
        client_secret: HS_SECRET,
        redirect_uris: [`${RP}/hs`],
        id_token_signed_response_alg: "HS256",
      },
      {
        client_id: "other-rp",
        client_secret: OTHER_SECRET,
        redirect_uris: ["https://other.example.test/cb"],
      },
    ],
  });
  const meta = (await (await fetch(`${op.issuer}/.well-known/openid-configuration`)).json()) as Record<
    string,
    string
  >;
  const settings = (id: string, clientId: string, secret: string, extra: Partial<OidcSettings> = {}) => ({
    id,
    name: id,
    issuer: op.issuer,
    clientId,
    clientSecret: secret,
    scopes: ["openid", "profile", "email", "groups"],
    algorithms: DEFAULT_OIDC_ALGORITHMS,
    groupRoles: {},
    ...extra,
  });
  await db.pool.query("INSERT INTO organizations (name) VALUES ('other')");
  let nextAddress = 1;
  const f: OidcFixture = {
    db,
    op,
    tokenEndpoint: meta.token_endpoint!,
    authorizationEndpoint: meta.authorization_endpoint!,
    offsetMs: 0,
    intercept: undefined,
    sso: undefined as unknown as SingleSignOn,
    async flow(provider, sub, alter) {
      const p = f.sso.provider("oidc", provider);
      const who = { address: `198.51.100.${nextAddress++}` };
      const start = await f.sso.start(p, "/after", who);
      const url = new URL(start.redirect);
      alter?.(url);
      const back = await op.login(url, sub);
      return {
        start,
        back,
        finish: (o = {}) =>
          f.sso.finish(p, o.params ?? back.searchParams, o.browserSecret ?? start.browserSecret, who),
      };
    },
    async refused(p, reason) {
      await assert.rejects(p, (e) => isAirlockError(e, "SSO_FAILED"));
      const { rows } = await db.pool.query<{ details: Record<string, unknown>; actor_id: string | null }>(
        "SELECT details, actor_id FROM audit_log WHERE action = 'login.failed' ORDER BY seq DESC LIMIT 1",
      );
      const failure: Record<string, unknown> = { ...rows[0]!.details, actorId: rows[0]!.actor_id };
      assert.equal(failure.reason, reason, JSON.stringify(failure));
      return failure;
    },
    async close() {
      await op.close();
      await db.drop();
    },
  };
  f.sso = new SingleSignOn(
    db.pool,
    {
      builtinUsers: true,
      forges: [],
      oidc: [
        settings("corp", "airlock", SECRET, {
          groupsClaim: "groups",
          groupRoles: {
            "ci-admins": [{ kind: "server-admin" }],
            "team-a": [{ kind: "organization", organization: "default", role: "maintainer" }],
            "team-b": [{ kind: "organization", organization: "default", role: "viewer" }],
            "other-admins": [
              { kind: "organization", organization: "other", role: "admin" },
              { kind: "organization", organization: "missing-org", role: "viewer" },
            ],
          },
        }),
        settings("hs", "airlock-hs", HS_SECRET),
      ],
    },
    {
      redirectUri: (_kind, id) => `${RP}/${id}`,
      now: () => Date.now() + f.offsetMs,
      fetch: (input, init) =>
        f.intercept?.(input instanceof Request ? input.url : input.toString(), init) ?? fetch(input, init),
    },
  );
  return f;
}
