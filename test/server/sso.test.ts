// Single sign-on over HTTP (in-process server, real PostgreSQL), configured from a real config file
// with secret files: a real OpenID Provider (oidc-provider 8) and fake GitHub / GitLab / Bitbucket
// authorization servers written to their documented contracts. Covers the providers list, the
// whole browser round trip (start cookie, provider, callback, new session, return path), session
// rotation, refusals as one JSON line, 404 for unknown providers, throttling of failed callbacks,
// forge identities keyed by immutable id across a rename, and built-in users switched off.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { stringify } from "yaml";
import { createUser, type SsoSettings } from "../../src/auth/index.js";
import { loadServerConfig } from "../../src/server/index.js";
import { startFakeForges, type FakeForges, type Forge } from "../helpers/fake-forges.js";
import { startOidcProvider, type TestProvider } from "../helpers/oidc-provider.js";
import { PUBLIC_URL, startTestServer, type TestServer } from "./helpers.js";

const SECRET = "oidc-client-secret-for-the-http-tests";
let dir: string;
let op: TestProvider;
let forges: FakeForges;
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
  forges = await startFakeForges();
  await writeFile(join(dir, "oidc-secret"), `${SECRET}\n`, { mode: 0o600 });
  await writeFile(join(dir, "forge-secret"), `  ${forges.clientSecret}  \n`, { mode: 0o600 });
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
        ...forges.config(join(dir, "forge-secret")),
      },
    }),
  );
  auth = loadServerConfig({ file, env: {} }).auth;
  s = await startTestServer({ auth });
});
after(async () => {
  await s?.close();
  await op?.close();
  await forges?.close();
  await rm(dir, { recursive: true, force: true });
});

interface Callback {
  status: number;
  location: string | undefined;
  session: string | undefined;
  setCookies: string[];
  body: string;
}

function cookies(h: string | string[] | undefined): string[] {
  return h === undefined ? [] : [h].flat();
}

/** start → the provider (played by `follow`) → callback, as one browser at `address`. */
async function ssoLogin(
  startPath: string,
  follow: (authorizeUrl: URL) => Promise<URL>,
  o: { address?: string; session?: string; alterCallback?: (path: string) => string } = {},
): Promise<Callback> {
  const address = o.address ?? "203.0.113.10";
  const start = await s.app.inject({ method: "GET", url: startPath, remoteAddress: address });
  assert.equal(start.statusCode, 302, start.body);
  const ssoCookie = cookies(start.headers["set-cookie"]).find((c) => c.startsWith("airlock_sso="));
  assert.match(
    ssoCookie ?? "",
    /^airlock_sso=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=600; Secure$/,
  );
  const back = await follow(new URL(start.headers.location as string));
  assert.ok(back.href.startsWith(PUBLIC_URL), back.href);
  const path = (o.alterCallback ?? ((p) => p))(back.href.slice(PUBLIC_URL.length));
  const cookie = [ssoCookie!.split(";")[0], ...(o.session ? [`airlock_session=${o.session}`] : [])].join(
    "; ",
  );
  const res = await s.app.inject({ method: "GET", url: path, headers: { cookie }, remoteAddress: address });
  const setCookies = cookies(res.headers["set-cookie"]);
  return {
    status: res.statusCode,
    location: res.headers.location,
    session: setCookies.map((c) => /^airlock_session=([^;]+)/.exec(c)?.[1]).find((v) => v !== undefined),
    setCookies,
    body: res.body,
  };
}

const me = (session: string) =>
  s.app.inject({ method: "GET", url: "/api/v1/auth/me", headers: { cookie: `airlock_session=${session}` } });

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
    const r = await ssoLogin("/api/v1/auth/oidc/corp/start?return=/runs/5%3Ftab%3Dlogs", (u) =>
      op.login(u, "sub-http-1"),
    );
    assert.equal(r.status, 302, r.body);
    assert.equal(r.location, `${PUBLIC_URL}/runs/5?tab=logs`);
    assert.ok(r.setCookies.some((c) => /^airlock_sso=; .*Max-Age=0/.test(c)));
    assert.match(
      r.setCookies.find((c) => c.startsWith("airlock_session="))!,
      /; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+; Secure$/,
    );
    const who = await me(r.session!);
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
    const old = /^airlock_session=([^;]+)/.exec(cookies(login.headers["set-cookie"])[0] ?? "")?.[1];
    assert.ok(old);
    op.accounts.set("sub-http-2", { preferred_username: "lee", groups: ["ci-admins"] });
    const r = await ssoLogin("/api/v1/auth/oidc/corp/start", (u) => op.login(u, "sub-http-2"), {
      session: old,
    });
    assert.equal(r.status, 302, r.body);
    assert.notEqual(r.session, old);
    assert.equal((await me(old)).statusCode, 401);
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
      const r = await ssoLogin(`/api/v1/auth/oidc/corp/start?return=${encodeURIComponent(ret)}`, (u) =>
        op.login(u, "sub-http-3"),
      );
      assert.equal(r.location, `${PUBLIC_URL}/`, ret);
    }
  });

  it("refuses a callback without state, and a replayed one, with one JSON line", async () => {
    op.accounts.set("sub-http-4", { preferred_username: "nia" });
    const noState = await ssoLogin("/api/v1/auth/oidc/corp/start", (u) => op.login(u, "sub-http-4"), {
      address: "203.0.113.20",
      alterCallback: (p) => p.replace(/([?&])state=[^&]*/, "$1x=1"),
    });
    assert.equal(noState.status, 401);
    assert.deepEqual(JSON.parse(noState.body), {
      error: { code: "SSO_FAILED", message: "single sign-on failed: start again from the login page" },
    });
    assert.equal(noState.session, undefined);

    let replay = "";
    const first = await ssoLogin(
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

  it("answers 404 for a provider that is not configured", async () => {
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

  for (const forge of ["github", "gitlab", "bitbucket"] as Forge[]) {
    it(`${forge}: the identity is the immutable user id, so a renamed login is the same user`, async () => {
      const id = forge === "bitbucket" ? "{1f2e3d4c-5b6a-4789-9abc-def012345678}" : 4242;
      forges.accounts[forge].set("acct", { id, login: `${forge}-octo`, name: "Octo" });
      const first = await ssoLogin(`/api/v1/auth/oauth/${forge}/start?return=/x`, (u) =>
        forges.approve(u, "acct"),
      );
      assert.equal(first.status, 302, first.body);
      assert.equal(first.location, `${PUBLIC_URL}/x`);
      const q = forges.authorizeRequests.at(-1)!.query;
      assert.equal(q.get("client_id"), forges.clientId);
      assert.equal(q.get("redirect_uri"), `${PUBLIC_URL}/api/v1/auth/oauth/${forge}/callback`);
      assert.ok(q.get("state"));
      assert.equal(q.get("code_challenge_method"), forge === "bitbucket" ? null : "S256");
      const user = JSON.parse((await me(first.session!)).body) as { id: number; name: string };
      assert.equal(user.name, `${forge}-octo`);
      const ident = await s.db.pool.query("SELECT subject FROM user_identities WHERE provider = $1", [forge]);
      assert.deepEqual(ident.rows, [{ subject: String(id) }]);

      forges.accounts[forge].set("acct", { id, login: `${forge}-renamed` });
      const second = await ssoLogin(`/api/v1/auth/oauth/${forge}/start`, (u) => forges.approve(u, "acct"));
      assert.equal(second.status, 302, second.body);
      const again = JSON.parse((await me(second.session!)).body) as { id: number; name: string };
      assert.equal(again.id, user.id);
      assert.equal(again.name, `${forge}-octo`);

      // Another account that took the old login name at the forge is another user.
      const otherId = forge === "bitbucket" ? "{0a0b0c0d-0e0f-4000-8000-000000000001}" : 777;
      forges.accounts[forge].set("squatter", { id: otherId, login: `${forge}-octo` });
      const third = await ssoLogin(`/api/v1/auth/oauth/${forge}/start`, (u) => forges.approve(u, "squatter"));
      const squatter = JSON.parse((await me(third.session!)).body) as { id: number; name: string };
      assert.notEqual(squatter.id, user.id);
      assert.equal(squatter.name, `${forge}-octo-2`);
    });
  }

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
