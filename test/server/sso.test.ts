// Single sign-on over HTTP (in-process server, real PostgreSQL) with a real OpenID Provider
// (oidc-provider 8), configured from a real config file with secret files: the providers list, the
// whole browser round trip (start cookie, provider, callback, new session, return path), session
// rotation, open-redirect refusal, refusals as one JSON line, 404 for unknown providers,
// throttling of failed callbacks, and built-in users switched off. Forges: sso-forges.test.ts.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { stringify } from "yaml";
import { createUser, type SsoSettings } from "../../src/auth/index.js";
import { loadServerConfig } from "../../src/server/index.js";
import { startOidcProvider, type TestProvider } from "../helpers/oidc-provider.js";
import { PUBLIC_URL, startTestServer, type TestServer } from "./helpers.js";
import { me, sessionOf, ssoLogin } from "./sso-helpers.js";

const SECRET = "oidc-client-secret-for-the-http-tests";
let dir: string;
let op: TestProvider;
let auth: SsoSettings;
let s: TestServer;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "airlock-sso-"));
  op = await startOidcProvider({
    clients: [
      {
        client_id: "airlock",
        client_secret: SECRET,
        redirect_uris: [`${PUBLIC_URL}/api/v1/auth/oidc/corp/callback`],
      },
    ],
  });
  await writeFile(join(dir, "oidc-secret"), `${SECRET}\n`, { mode: 0o600 });
  await writeFile(join(dir, "forge-secret"), "not-contacted-here\n", { mode: 0o600 });
  const file = join(dir, "airlock.yaml");
  await writeFile(
    file,
    stringify({
      auth: {
        oidc: [
          {
            id: "corp",
            name: "Corp SSO",
            issuer: op.issuer,
            clientId: "airlock",
            clientSecretFile: join(dir, "oidc-secret"),
            scopes: ["openid", "profile", "groups"],
            groupsClaim: "groups",
            groupRoles: { "ci-admins": "server-admin" },
          },
        ],
        // Listed only (their logins are in sso-forges.test.ts).
        github: { clientId: "gh", clientSecretFile: join(dir, "forge-secret") },
        gitlab: { clientId: "gl", clientSecretFile: join(dir, "forge-secret") },
        bitbucket: { clientId: "bb", clientSecretFile: join(dir, "forge-secret") },
      },
    }),
  );
  auth = loadServerConfig({ file, env: {} }).auth;
  s = await startTestServer({ auth });
});
after(async () => {
  await s?.close();
  await op?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("single sign-on over HTTP", () => {
  it("lists the ways to log in", async () => {
    const res = await s.app.inject({ method: "GET", url: "/api/v1/auth/providers" });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(JSON.parse(res.body), {
      passwordLogin: true,
      providers: [
        { id: "corp", name: "Corp SSO", kind: "oidc", startUrl: `${PUBLIC_URL}/api/v1/auth/oidc/corp/start` },
        ...(["github", "gitlab", "bitbucket"] as const).map((f) => ({
          id: f,
          name: { github: "GitHub", gitlab: "GitLab", bitbucket: "Bitbucket" }[f],
          kind: f,
          startUrl: `${PUBLIC_URL}/api/v1/auth/oauth/${f}/start`,
        })),
      ],
    });
  });

  it("OpenID Connect: a new user with no role gets a session, goes back to the return path, and is refused admin APIs", async () => {
    op.accounts.set("sub-http-1", { preferred_username: "kim", name: "Kim" });
    const r = await ssoLogin(s, "/api/v1/auth/oidc/corp/start?return=/runs/5%3Ftab%3Dlogs", (u) =>
      op.login(u, "sub-http-1"),
    );
    assert.equal(r.status, 302, r.body);
    assert.equal(r.location, `${PUBLIC_URL}/runs/5?tab=logs`);
    assert.ok(r.setCookies.some((c) => /^airlock_sso=; .*Max-Age=0/.test(c)));
    assert.match(
      r.setCookies.find((c) => c.startsWith("airlock_session="))!,
      /; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+; Secure$/,
    );
    const who = await me(s, r.session!);
    assert.equal(who.statusCode, 200);
    assert.equal(JSON.parse(who.body).name, "kim");
    const nodes = await s.app.inject({
      method: "GET",
      url: "/api/v1/nodes",
      headers: { cookie: `airlock_session=${r.session}` },
    });
    assert.equal(nodes.statusCode, 403);
    const { rows } = await s.db.pool.query<{ action: string; details: Record<string, unknown> }>(
      "SELECT action, details FROM audit_log WHERE action IN ('user.created', 'login.succeeded') ORDER BY seq",
    );
    assert.deepEqual(
      rows.map((x) => [x.action, x.details.method]),
      [
        ["user.created", "oidc:corp"],
        ["login.succeeded", "oidc:corp"],
      ],
    );
  });

  it("gives a new session id at login and ends the session the browser had", async () => {
    await createUser(s.db.pool, { name: "local", password: "a local password here" });
    const login = await s.app.inject({
      method: "POST",
      url: "/api/v1/auth/login",
      payload: { user: "local", password: "a local password here" },
    });
    const old = sessionOf(login.headers["set-cookie"]);
    assert.ok(old);
    op.accounts.set("sub-http-2", { preferred_username: "lee", groups: ["ci-admins"] });
    const r = await ssoLogin(s, "/api/v1/auth/oidc/corp/start", (u) => op.login(u, "sub-http-2"), {
      session: old,
    });
    assert.equal(r.status, 302, r.body);
    assert.notEqual(r.session, old);
    assert.equal((await me(s, old)).statusCode, 401);
    // The groups mapping made this user a server administrator.
    const nodes = await s.app.inject({
      method: "GET",
      url: "/api/v1/nodes",
      headers: { cookie: `airlock_session=${r.session}` },
    });
    assert.equal(nodes.statusCode, 200);
  });

  it("sends the browser only to paths under the public URL", async () => {
    for (const ret of [
      "https://evil.example/x",
      "//evil.example/x",
      "/\\evil.example",
      "javascript:alert(1)",
    ]) {
      op.accounts.set("sub-http-3", { preferred_username: "max" });
      const r = await ssoLogin(s, `/api/v1/auth/oidc/corp/start?return=${encodeURIComponent(ret)}`, (u) =>
        op.login(u, "sub-http-3"),
      );
      assert.equal(r.location, `${PUBLIC_URL}/`, ret);
    }
  });

  it("refuses a callback without state, and a replayed one, with one JSON line", async () => {
    op.accounts.set("sub-http-4", { preferred_username: "nia" });
    const noState = await ssoLogin(s, "/api/v1/auth/oidc/corp/start", (u) => op.login(u, "sub-http-4"), {
      address: "203.0.113.20",
      alterCallback: (p) => p.replace(/([?&])state=[^&]*/, "$1x=1"),
    });
    assert.equal(noState.status, 401);
    assert.deepEqual(JSON.parse(noState.body), {
      error: { code: "SSO_FAILED", message: "single sign-on failed: start again from the login page" },
    });
    assert.equal(noState.session, undefined);
    assert.ok(noState.setCookies.some((c) => /^airlock_sso=; .*Max-Age=0/.test(c)));

    let replay = "";
    const first = await ssoLogin(
      s,
      "/api/v1/auth/oidc/corp/start",
      async (u) => {
        const back = await op.login(u, "sub-http-4");
        replay = back.href.slice(PUBLIC_URL.length);
        return back;
      },
      { address: "203.0.113.20" },
    );
    assert.equal(first.status, 302);
    const again = await s.app.inject({ method: "GET", url: replay, remoteAddress: "203.0.113.20" });
    assert.equal(again.statusCode, 401);
    assert.equal(JSON.parse(again.body).error.code, "SSO_FAILED");
    const { rows } = await s.db.pool.query<{ details: Record<string, unknown> }>(
      "SELECT details FROM audit_log WHERE action = 'login.failed' ORDER BY seq",
    );
    assert.deepEqual(
      rows.map((r) => r.details.reason),
      ["unknown_state", "unknown_state"],
    );
  });

  it("answers 404 for a provider that is not configured, and to HEAD on a callback", async () => {
    for (const url of [
      "/api/v1/auth/oidc/nope/start",
      "/api/v1/auth/oidc/nope/callback?code=x&state=y",
      "/api/v1/auth/oauth/gitea/start",
      "/api/v1/auth/oauth/gitea/callback",
    ]) {
      const res = await s.app.inject({ method: "GET", url });
      assert.equal(res.statusCode, 404, url);
      assert.equal(JSON.parse(res.body).error.code, "NOT_FOUND");
    }
    // No HEAD twin that would use up a login.
    const head = await s.app.inject({
      method: "HEAD",
      url: "/api/v1/auth/oidc/corp/callback?code=x&state=y",
    });
    assert.equal(head.statusCode, 404);
  });

  it("throttles failed callbacks per client address", async () => {
    const bad = (address: string) =>
      s.app.inject({
        method: "GET",
        url: "/api/v1/auth/oidc/corp/callback?code=x&state=not-a-state",
        remoteAddress: address,
      });
    for (let i = 0; i < 20; i++) assert.equal((await bad("192.0.2.66")).statusCode, 401);
    const locked = await bad("192.0.2.66");
    assert.equal(locked.statusCode, 429);
    assert.equal(JSON.parse(locked.body).error.code, "RATE_LIMITED");
    assert.equal((await bad("192.0.2.67")).statusCode, 401);
  });

  it("with built-in users switched off, password login is refused and the list says so", async () => {
    const off = await startTestServer({ auth: { ...auth, builtinUsers: false } });
    try {
      await createUser(off.db.pool, { name: "someone", password: "someone's password" });
      const res = await off.app.inject({
        method: "POST",
        url: "/api/v1/auth/login",
        payload: { user: "someone", password: "someone's password" },
      });
      assert.equal(res.statusCode, 403);
      assert.equal(JSON.parse(res.body).error.code, "LOGIN_METHOD_DISABLED");
      assert.equal(res.headers["set-cookie"], undefined);
      const list = await off.app.inject({ method: "GET", url: "/api/v1/auth/providers" });
      assert.equal(JSON.parse(list.body).passwordLogin, false);
    } finally {
      await off.close();
    }
  });
});
