// OpenID Connect login against a real OpenID Provider (oidc-provider 8, started here) and a real
// PostgreSQL: code flow with PKCE, users keyed by `sub`, groups mapped to roles, and every way a
// callback must be refused — state missing, wrong or replayed, another browser, the provider's
// error, a nonce or audience that is not ours, an expired token (our clock moved a day on; no
// waiting), an algorithm outside the allow-list (HS256), a tampered signature (the token endpoint's
// answer altered on its way, through the injected HTTP client), a disabled user.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import {
  DEFAULT_OIDC_ALGORITHMS,
  SingleSignOn,
  setUserDisabled,
  type OidcSettings,
  type SsoLogin,
} from "../../src/auth/index.js";
import { isAirlockError } from "../../src/errors/index.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { startOidcProvider, type TestProvider } from "../helpers/oidc-provider.js";

const RP = "https://ci.example.test/cb";
const SECRET = "airlock-client-secret-for-the-tests";
const HS_SECRET = "a-symmetric-secret-that-is-long-enough-for-hs256!";
const OTHER_SECRET = "other-relying-party-secret";

let db: TestDatabase;
let op: TestProvider;
let sso: SingleSignOn;
let offsetMs = 0;
/** Replaces the HTTP client Airlock uses towards the provider, for one test. */
let intercept: ((url: string, init: RequestInit | undefined) => Promise<Response> | undefined) | undefined;
let tokenEndpoint: string;
let authorizationEndpoint: string;

function settings(
  id: string,
  clientId: string,
  secret: string,
  extra: Partial<OidcSettings> = {},
): OidcSettings {
  return {
    id,
    name: id,
    issuer: op.issuer,
    clientId,
    clientSecret: secret,
    scopes: ["openid", "profile", "email", "groups"],
    algorithms: DEFAULT_OIDC_ALGORITHMS,
    groupRoles: {},
    ...extra,
  };
}

before(async () => {
  db = await createTestDatabase();
  op = await startOidcProvider({
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
  tokenEndpoint = meta.token_endpoint!;
  authorizationEndpoint = meta.authorization_endpoint!;
  await db.pool.query("INSERT INTO organizations (name) VALUES ('other')");
  sso = new SingleSignOn(
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
      now: () => Date.now() + offsetMs,
      fetch: (input, init) =>
        intercept?.(input instanceof Request ? input.url : input.toString(), init) ?? fetch(input, init),
    },
  );
});
after(async () => {
  await op?.close();
  await db?.drop();
});

let nextAddress = 1;
const client = (): { address: string } => ({ address: `198.51.100.${nextAddress++}` });

interface Flow {
  start: { redirect: URL; browserSecret: string };
  back: URL;
  finish(o?: { params?: URLSearchParams; browserSecret?: string }): Promise<SsoLogin>;
}

/** Starts a login, plays the browser at the provider as `sub`, and returns the way back. */
async function flow(provider: string, sub: string, alter?: (u: URL) => void): Promise<Flow> {
  const p = sso.provider("oidc", provider);
  const who = client();
  const start = await sso.start(p, "/after", who);
  const url = new URL(start.redirect);
  alter?.(url);
  const back = await op.login(url, sub);
  return {
    start,
    back,
    finish: (o = {}) =>
      sso.finish(p, o.params ?? back.searchParams, o.browserSecret ?? start.browserSecret, who),
  };
}

async function lastFailure(): Promise<Record<string, unknown>> {
  const { rows } = await db.pool.query<{ details: Record<string, unknown>; actor_id: string | null }>(
    "SELECT details, actor_id FROM audit_log WHERE action = 'login.failed' ORDER BY seq DESC LIMIT 1",
  );
  return { ...rows[0]!.details, actorId: rows[0]!.actor_id };
}

async function refused(p: Promise<unknown>, reason: string): Promise<Record<string, unknown>> {
  await assert.rejects(p, (e) => isAirlockError(e, "SSO_FAILED"));
  const f = await lastFailure();
  assert.equal(f.reason, reason, JSON.stringify(f));
  return f;
}

describe("OpenID Connect login", () => {
  it("code flow with PKCE makes a user with no role, found again by sub after a rename", async () => {
    op.accounts.set("sub-alice", {
      preferred_username: "alice",
      name: "Alice A",
      email: "alice@example.test",
    });
    const f = await flow("corp", "sub-alice");
    const q = f.start.redirect.searchParams;
    assert.equal(q.get("code_challenge_method"), "S256");
    assert.match(q.get("code_challenge") ?? "", /^[A-Za-z0-9_-]{43}$/);
    assert.ok(q.get("state") && q.get("nonce"));
    assert.equal(q.get("scope"), "openid profile email groups");
    const first = await f.finish();
    assert.equal(first.created, true);
    assert.equal(first.user.name, "alice");
    assert.equal(first.user.displayName, "Alice A");
    assert.equal(first.user.serverAdmin, false);
    assert.equal(first.user.hasPassword, false);
    assert.equal(first.returnTo, "/after");
    const grants = await db.pool.query("SELECT 1 FROM role_grants WHERE user_id = $1", [first.user.id]);
    assert.equal(grants.rowCount, 0);
    const ident = await db.pool.query("SELECT provider, subject FROM user_identities WHERE user_id = $1", [
      first.user.id,
    ]);
    assert.deepEqual(ident.rows, [{ provider: "oidc:corp", subject: "sub-alice" }]);

    op.accounts.set("sub-alice", { preferred_username: "alice.renamed", name: "Alice B" });
    const second = await (await flow("corp", "sub-alice")).finish();
    assert.equal(second.created, false);
    assert.equal(second.user.id, first.user.id);
    assert.equal(second.user.name, "alice");
    assert.equal(second.user.displayName, "Alice B");
    assert.notEqual(second.session.id, first.session.id);

    const audit = await db.pool.query<{ action: string; n: string }>(
      `SELECT action, count(*) AS n FROM audit_log WHERE object_id = $1 GROUP BY action ORDER BY action`,
      [String(first.user.id)],
    );
    assert.deepEqual(
      audit.rows.map((r) => [r.action, Number(r.n)]),
      [
        ["login.succeeded", 2],
        ["user.created", 1],
      ],
    );
  });

  it("a taken or reserved name gets a numeric suffix; another sub is another user", async () => {
    op.accounts.set("sub-alice-2", { preferred_username: "Alice" });
    op.accounts.set("sub-admin", { preferred_username: "admin" });
    op.accounts.set("sub-odd", { preferred_username: "--Ünïcode user!!" });
    const a = await (await flow("corp", "sub-alice-2")).finish();
    assert.equal(a.user.name, "Alice-2");
    const b = await (await flow("corp", "sub-admin")).finish();
    assert.equal(b.user.name, "admin-2");
    assert.equal(b.user.serverAdmin, false);
    const c = await (await flow("corp", "sub-odd")).finish();
    assert.equal(c.user.name, "Unicode-user");
  });

  it("maps groups to roles at each login, keeps hand-made grants, drops mapped ones whose group is gone", async () => {
    op.accounts.set("sub-bob", { preferred_username: "bob", groups: ["ci-admins", "team-a", "team-b"] });
    const first = await (await flow("corp", "sub-bob")).finish();
    const id = first.user.id;
    const roles = async (): Promise<string[]> =>
      (
        await db.pool.query<{ g: string }>(
          `SELECT o.name || '=' || g.role || '/' || COALESCE(g.mapped_by, 'hand') AS g
             FROM role_grants g JOIN organizations o ON o.id = g.organization_id WHERE g.user_id = $1 ORDER BY 1`,
          [id],
        )
      ).rows.map((r) => r.g);
    const admin = async (): Promise<boolean> =>
      (await db.pool.query<{ a: boolean }>("SELECT server_admin AS a FROM users WHERE id = $1", [id]))
        .rows[0]!.a;
    assert.equal(await admin(), true);
    // The highest role of two groups on one organization.
    assert.deepEqual(await roles(), ["default=maintainer/oidc:corp"]);

    // An administrator grants a role on `other` by hand; the mapping does not override it.
    await db.pool.query(
      "INSERT INTO role_grants (user_id, organization_id, role) SELECT $1, id, 'viewer' FROM organizations WHERE name = 'other'",
      [id],
    );
    op.accounts.set("sub-bob", { preferred_username: "bob", groups: ["team-b", "other-admins"] });
    await (await flow("corp", "sub-bob")).finish();
    assert.equal(await admin(), false);
    assert.deepEqual(await roles(), ["default=viewer/oidc:corp", "other=viewer/hand"]);
    const mapped = await db.pool.query<{ details: Record<string, unknown> }>(
      "SELECT details FROM audit_log WHERE action = 'user.roles_mapped' AND object_id = $1 ORDER BY seq DESC LIMIT 1",
      [String(id)],
    );
    assert.deepEqual(mapped.rows[0]!.details.unknown, ["organization missing-org"]);

    op.accounts.set("sub-bob", { preferred_username: "bob", groups: [] });
    await (await flow("corp", "sub-bob")).finish();
    assert.deepEqual(await roles(), ["other=viewer/hand"]);
  });

  it("a server administrator made by hand stays one when the groups say otherwise", async () => {
    op.accounts.set("sub-carol", { preferred_username: "carol", groups: [] });
    const first = await (await flow("corp", "sub-carol")).finish();
    await db.pool.query("UPDATE users SET server_admin = true WHERE id = $1", [first.user.id]);
    const again = await (await flow("corp", "sub-carol")).finish();
    assert.equal(again.user.serverAdmin, true);
  });

  it("refuses a missing or unknown state, a replayed callback, another browser and the provider's error", async () => {
    op.accounts.set("sub-dave", { preferred_username: "dave" });
    const f = await flow("corp", "sub-dave");
    const noState = new URLSearchParams(f.back.searchParams);
    noState.delete("state");
    await refused(f.finish({ params: noState }), "unknown_state");
    const wrongState = new URLSearchParams(f.back.searchParams);
    wrongState.set("state", randomBytes(32).toString("base64url"));
    await refused(f.finish({ params: wrongState }), "unknown_state");
    await f.finish();
    await refused(f.finish(), "unknown_state");

    const other = await flow("corp", "sub-dave");
    await refused(other.finish({ browserSecret: randomBytes(32).toString("base64url") }), "browser_mismatch");
    // The pending login is used up by that attempt: the right browser cannot use it afterwards.
    await refused(other.finish(), "unknown_state");

    const denied = await flow("corp", "sub-dave");
    const error = new URLSearchParams({
      error: "access_denied",
      error_description: "<script>alert(1)</script>",
      state: denied.start.redirect.searchParams.get("state")!,
      iss: op.issuer,
    });
    const f2 = await refused(denied.finish({ params: error }), "provider_error");
    assert.equal(f2.detail, "access_denied");
  });

  it("refuses an ID token whose nonce is not the one sent", async () => {
    op.accounts.set("sub-erin", { preferred_username: "erin" });
    const f = await flow("corp", "sub-erin", (u) => u.searchParams.set("nonce", "a-nonce-of-the-attacker"));
    const r = await refused(f.finish(), "token_invalid");
    assert.match(String(r.detail), /nonce/);
  });

  it("refuses an ID token issued to another client (audience), even with our nonce", async () => {
    op.accounts.set("sub-frank", { preferred_username: "frank" });
    const f = await flow("corp", "sub-frank");
    // The other relying party's own login, with the nonce of ours, redeemed by that party.
    const verifier = randomBytes(32).toString("base64url");
    const auth = new URL(authorizationEndpoint);
    for (const [k, v] of Object.entries({
      client_id: "other-rp",
      response_type: "code",
      scope: "openid",
      redirect_uri: "https://other.example.test/cb",
      state: "other-state",
      nonce: f.start.redirect.searchParams.get("nonce")!,
      code_challenge: createHash("sha256").update(verifier).digest("base64url"),
      code_challenge_method: "S256",
    }))
      auth.searchParams.set(k, v);
    const otherBack = await op.login(auth, "sub-frank");
    const res = await fetch(tokenEndpoint, {
      method: "POST",
      headers: {
        authorization: `Basic ${Buffer.from(`other-rp:${OTHER_SECRET}`).toString("base64")}`,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code: otherBack.searchParams.get("code")!,
        redirect_uri: "https://other.example.test/cb",
        code_verifier: verifier,
      }),
    });
    assert.equal(res.status, 200);
    const otherTokens = await res.text();
    intercept = (url) =>
      url === tokenEndpoint
        ? Promise.resolve(new Response(otherTokens, { headers: { "content-type": "application/json" } }))
        : undefined;
    try {
      const r = await refused(f.finish(), "token_invalid");
      assert.match(String(r.detail), /aud/);
    } finally {
      intercept = undefined;
    }
  });

  it("refuses an expired ID token (our clock a day ahead)", async () => {
    op.accounts.set("sub-gina", { preferred_username: "gina" });
    offsetMs = 24 * 3600 * 1000;
    try {
      const r = await refused((await flow("corp", "sub-gina")).finish(), "token_invalid");
      assert.match(String(r.detail), /exp/);
    } finally {
      offsetMs = 0;
    }
  });

  it("refuses an ID token signed with an algorithm outside the allow-list (HS256)", async () => {
    op.accounts.set("sub-hank", { preferred_username: "hank" });
    const r = await refused((await flow("hs", "sub-hank")).finish(), "token_invalid");
    assert.match(String(r.detail), /alg/i);
  });

  it("refuses an ID token whose signature was tampered with on its way", async () => {
    op.accounts.set("sub-ivy", { preferred_username: "ivy" });
    const f = await flow("corp", "sub-ivy");
    const tamper = async (url: string, init: RequestInit | undefined): Promise<Response> => {
      const real = (await (await fetch(url, init)).json()) as { id_token: string };
      const [h, p, s] = real.id_token.split(".") as [string, string, string];
      const i = Math.floor(s.length / 2);
      const flipped = s.slice(0, i) + (s[i] === "A" ? "B" : "A") + s.slice(i + 1);
      return new Response(JSON.stringify({ ...real, id_token: `${h}.${p}.${flipped}` }), {
        headers: { "content-type": "application/json" },
      });
    };
    intercept = (url, init) => (url === tokenEndpoint ? tamper(url, init) : undefined);
    try {
      const r = await refused(f.finish(), "token_invalid");
      assert.match(String(r.detail), /signature/);
    } finally {
      intercept = undefined;
    }
  });

  it("refuses a disabled user, naming the user in the audit log only", async () => {
    op.accounts.set("sub-jo", { preferred_username: "jo" });
    const made = await (await flow("corp", "sub-jo")).finish();
    await setUserDisabled(db.pool, made.user.id, true);
    const r = await refused((await flow("corp", "sub-jo")).finish(), "user_disabled");
    assert.equal(r.actorId, String(made.user.id));
  });
});
