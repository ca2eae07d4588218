// Users, roles and tokens through the API: privilege escalation attempts across organizations and
// roles, an organization that requires MFA, disabling a user (sessions and tokens die at once),
// token expiry and revocation, the last server administrator, and throttling of failed token
// authentications per client address.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  createApiToken,
  createUser,
  MemoryFailureLimiter,
  CLIENT_POLICY,
  totpCode,
  type User,
} from "../../src/auth/index.js";
import { startTestServer, type TestServer } from "./helpers.js";

let s: TestServer;
let now = 1_000_000;
const limiter = new MemoryFailureLimiter(CLIENT_POLICY, { now: () => now });

type Res = { status: number; body: Record<string, unknown> & { error?: { code: string; message: string } } };
async function call(
  token: string,
  method: string,
  url: string,
  payload?: unknown,
  ip = "198.51.100.7",
): Promise<Res> {
  const r = await s.app.inject({
    method: method as "GET",
    url,
    remoteAddress: ip,
    headers: { authorization: `Bearer ${token}` },
    ...(payload !== undefined ? { payload: payload as object } : {}),
  });
  return { status: r.statusCode, body: r.body ? (JSON.parse(r.body) as Res["body"]) : {} };
}

let acmeAdmin: { user: User; token: string };
let dev: { user: User; token: string };
let repoId = 0;
let otherRepoId = 0;

async function person(
  name: string,
  opts: { password?: string } = {},
): Promise<{ user: User; token: string }> {
  const user = await createUser(s.db.pool, { name, ...opts });
  const { token } = await createApiToken(s.db.pool, {
    kind: "personal",
    name: "t",
    scopes: ["admin"],
    userId: user.id,
  });
  return { user, token };
}

before(async () => {
  s = await startTestServer({}, { authFailures: limiter });
  const admin = s.admin;
  assert.equal((await call(admin, "POST", "/api/v1/organizations", { name: "acme" })).status, 201);
  assert.equal((await call(admin, "POST", "/api/v1/organizations", { name: "other" })).status, 201);
  repoId = Number(
    (
      await call(admin, "POST", "/api/v1/repositories", {
        name: "acme/app",
        cloneUrl: "/srv/a",
        organization: "acme",
      })
    ).body.id,
  );
  otherRepoId = Number(
    (
      await call(admin, "POST", "/api/v1/repositories", {
        name: "other/app",
        cloneUrl: "/srv/b",
        organization: "other",
      })
    ).body.id,
  );
  acmeAdmin = await person("alice");
  dev = await person("dave");
  assert.equal(
    (await call(admin, "PUT", "/api/v1/organizations/acme/members/alice", { role: "admin" })).status,
    200,
  );
});
after(async () => {
  await s?.close();
});

describe("privilege escalation", () => {
  it("an organization admin manages roles in their organization only, and cannot make anyone a server administrator", async () => {
    const t = acmeAdmin.token;
    const g = await call(t, "PUT", "/api/v1/organizations/acme/members/dave", { role: "developer" });
    assert.equal(g.status, 200);
    assert.equal(g.body.role, "developer");
    assert.equal(
      (await call(t, "PUT", "/api/v1/organizations/other/members/alice", { role: "admin" })).status,
      404,
    );
    assert.equal(
      (await call(t, "PUT", `/api/v1/repositories/${otherRepoId}/members/alice`, { role: "admin" })).status,
      404,
    );
    assert.equal(
      (await call(t, "PATCH", `/api/v1/users/${acmeAdmin.user.id}`, { serverAdmin: true })).status,
      403,
    );
    assert.equal(
      (await call(t, "POST", "/api/v1/users", { name: "mallory", serverAdmin: true })).status,
      403,
    );
    assert.equal(
      (await call(t, "PUT", "/api/v1/organizations/acme/limit", { maxConcurrentJobs: 1000 })).status,
      403,
    );
    assert.equal((await call(t, "GET", "/api/v1/audit")).status, 403);
  });

  it("a developer cannot raise their own role, change settings, or see members' tokens", async () => {
    const t = dev.token;
    assert.equal(
      (await call(t, "PUT", "/api/v1/organizations/acme/members/dave", { role: "admin" })).status,
      403,
    );
    assert.equal(
      (await call(t, "PUT", `/api/v1/repositories/${repoId}/members/dave`, { role: "admin" })).status,
      403,
    );
    assert.equal(
      (await call(t, "PUT", `/api/v1/repositories/${repoId}/egress`, { allow: ["evil.test:443"] })).status,
      403,
    );
    assert.equal(
      (await call(t, "POST", "/api/v1/organizations/acme/tokens", { name: "x", scopes: "admin" })).status,
      403,
    );
    assert.equal((await call(t, "DELETE", `/api/v1/repositories/${repoId}`)).status, 403);
    // What a developer may do: start runs.
    assert.equal((await call(t, "POST", `/api/v1/repositories/${repoId}/runs`, {})).status, 201);
  });

  it("a narrow token cannot mint a broader one, and a token is bounded by its user's roles", async () => {
    const { token } = await createApiToken(s.db.pool, {
      kind: "personal",
      name: "read only",
      scopes: ["runs:read"],
      userId: acmeAdmin.user.id,
    });
    const r = await call(token, "POST", "/api/v1/tokens", { name: "wider", scopes: "admin" });
    assert.equal(r.status, 403);
    assert.match(r.body.error!.message, /admin scope/);
    assert.equal((await call(token, "GET", "/api/v1/runs")).status, 200);
    assert.equal((await call(token, "GET", `/api/v1/repositories/${repoId}`)).status, 403);
    // dave's admin-scoped token is still only a developer's.
    assert.equal((await call(dev.token, "DELETE", `/api/v1/repositories/${repoId}`)).status, 403);
  });

  it("a service token acts in its organization with its scopes, never beyond", async () => {
    const made = await call(acmeAdmin.token, "POST", "/api/v1/organizations/acme/tokens", {
      name: "deploy bot",
      scopes: ["runs:write"],
      days: 7,
    });
    assert.equal(made.status, 201);
    const svc = String(made.body.token);
    assert.match(svc, /^alk_svc_/);
    assert.equal((await call(svc, "POST", `/api/v1/repositories/${repoId}/runs`, {})).status, 201);
    assert.equal((await call(svc, "POST", `/api/v1/repositories/${otherRepoId}/runs`, {})).status, 404);
    assert.equal(
      (await call(svc, "PUT", `/api/v1/repositories/${repoId}/egress`, { allow: [] })).status,
      403,
    );
    assert.equal((await call(svc, "GET", "/api/v1/nodes")).status, 403);
    assert.equal((await call(svc, "POST", "/api/v1/tokens", { name: "x", scopes: "admin" })).status, 403);
    const listed = await call(acmeAdmin.token, "GET", "/api/v1/organizations/acme/tokens");
    assert.ok(!JSON.stringify(listed.body).includes(svc.slice(8)), "never the secret");
    // Revoked: dead at once.
    assert.equal(
      (await call(acmeAdmin.token, "DELETE", `/api/v1/organizations/acme/tokens/${String(made.body.id)}`))
        .status,
      204,
    );
    assert.equal((await call(svc, "GET", "/api/v1/runs")).status, 401);
  });

  it("runs started by a user record the user as their actor", async () => {
    const before = s.runs.triggers.length;
    assert.equal((await call(dev.token, "POST", `/api/v1/repositories/${repoId}/runs`, {})).status, 201);
    assert.equal(s.runs.triggers[before]?.req.actor, "dave");
  });
});

describe("users", () => {
  it("disabling a user kills their tokens at once; enabling does not revive them", async () => {
    const u = await person("erin");
    await call(s.admin, "PUT", "/api/v1/organizations/acme/members/erin", { role: "viewer" });
    assert.equal((await call(u.token, "GET", "/api/v1/runs")).status, 200);
    const off = await call(s.admin, "PATCH", `/api/v1/users/${u.user.id}`, { disabled: true });
    assert.equal(off.status, 200);
    assert.equal(off.body.disabled, true);
    assert.equal((await call(u.token, "GET", "/api/v1/runs")).status, 401);
    assert.equal(
      (await call(s.admin, "PATCH", `/api/v1/users/${u.user.id}`, { disabled: false })).status,
      200,
    );
    assert.equal((await call(u.token, "GET", "/api/v1/runs")).status, 401, "tokens from before stay dead");
  });

  it("an expired token and a revoked token are refused", async () => {
    const u = await person("frank");
    await call(s.admin, "PUT", "/api/v1/organizations/acme/members/frank", { role: "viewer" });
    const made = await call(u.token, "POST", "/api/v1/tokens", {
      name: "short",
      scopes: ["runs:read"],
      days: 1,
    });
    assert.equal(made.status, 201);
    const t = String(made.body.token);
    assert.equal((await call(t, "GET", "/api/v1/runs")).status, 200);
    await s.db.pool.query("UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1", [
      made.body.id,
    ]);
    assert.equal((await call(t, "GET", "/api/v1/runs")).status, 401);
    const again = await call(u.token, "POST", "/api/v1/tokens", { name: "other", scopes: ["runs:read"] });
    assert.equal((await call(u.token, "DELETE", `/api/v1/tokens/${String(again.body.id)}`)).status, 204);
    assert.equal((await call(String(again.body.token), "GET", "/api/v1/runs")).status, 401);
    // A narrow token may revoke itself (logout), not another token of its user.
    const narrow = await call(u.token, "POST", "/api/v1/tokens", { name: "narrow", scopes: ["runs:read"] });
    const sibling = await call(u.token, "POST", "/api/v1/tokens", { name: "sibling", scopes: ["runs:read"] });
    const nt = String(narrow.body.token);
    assert.equal((await call(nt, "DELETE", `/api/v1/tokens/${String(sibling.body.id)}`)).status, 403);
    assert.equal((await call(nt, "DELETE", `/api/v1/tokens/${String(narrow.body.id)}`)).status, 204);
    assert.equal((await call(nt, "GET", "/api/v1/me")).status, 401);
    // Someone else's token is not there for a non-administrator.
    const mine = await call(u.token, "POST", "/api/v1/tokens", { name: "x", scopes: ["runs:read"] });
    assert.equal((await call(dev.token, "DELETE", `/api/v1/tokens/${String(mine.body.id)}`)).status, 404);
  });

  it("the last enabled server administrator cannot be demoted, disabled or deleted", async () => {
    const users = (await call(s.admin, "GET", "/api/v1/users")).body as unknown as Array<{
      id: number;
      serverAdmin: boolean;
    }>;
    const admins = users.filter((u) => u.serverAdmin);
    assert.equal(admins.length, 1);
    const id = admins[0]!.id;
    for (const [method, payload] of [
      ["PATCH", { serverAdmin: false }],
      ["PATCH", { disabled: true }],
      ["DELETE", undefined],
    ] as const) {
      const r = await call(s.admin, method, `/api/v1/users/${id}`, payload);
      assert.equal(r.status, 409, JSON.stringify(r.body));
      assert.equal(r.body.error?.code, "CONFLICT");
    }
  });

  it("an administrator resets a password: the user's sessions and tokens end", async () => {
    const u = await person("gina", { password: "gina's first password" });
    await call(s.admin, "PUT", "/api/v1/organizations/acme/members/gina", { role: "viewer" });
    assert.equal(
      (await call(s.admin, "PUT", `/api/v1/users/${u.user.id}/password`, { password: "short" })).status,
      400,
    );
    assert.equal(
      (
        await call(s.admin, "PUT", `/api/v1/users/${u.user.id}/password`, {
          password: "a brand new password",
        })
      ).status,
      204,
    );
    assert.equal((await call(u.token, "GET", "/api/v1/me")).status, 401);
    const login = await s.app.inject({
      method: "POST",
      url: "/api/v1/auth/login",
      payload: { user: "gina", password: "a brand new password" },
    });
    assert.equal(login.statusCode, 200);
  });
});

describe("an organization that requires MFA", () => {
  it("holds back the roles of members who log in with a password and have no second factor", async () => {
    const pw = "hank's long password";
    const h = await person("hank", { password: pw });
    await call(s.admin, "PUT", "/api/v1/organizations/acme/members/hank", { role: "developer" });
    assert.equal((await call(h.token, "GET", `/api/v1/repositories/${repoId}`)).status, 200);
    const on = await call(acmeAdmin.token, "PUT", "/api/v1/organizations/acme/settings", {
      requireMfa: true,
    });
    assert.equal(on.status, 200);
    assert.equal(on.body.requireMfa, true);
    const refused = await call(h.token, "GET", `/api/v1/repositories/${repoId}`);
    assert.equal(refused.status, 403);
    assert.match(refused.body.error!.message, /requires two-factor authentication/);
    // With no other role, lists say why too.
    const list = await call(h.token, "GET", "/api/v1/repositories");
    assert.equal(list.status, 403);
    assert.match(list.body.error!.message, /requires two-factor authentication/);
    // An external user (no password) proves MFA at their identity provider: not held back.
    const ext = await person("ivy");
    await call(s.admin, "PUT", "/api/v1/organizations/acme/members/ivy", { role: "viewer" });
    assert.equal((await call(ext.token, "GET", `/api/v1/repositories/${repoId}`)).status, 200);
    // Hank enrols TOTP through a session; then his roles are back.
    const login = await s.app.inject({
      method: "POST",
      url: "/api/v1/auth/login",
      payload: { user: "hank", password: pw },
    });
    const cookie = String(login.headers["set-cookie"]).split(";")[0]!;
    const csrf = (JSON.parse(login.body) as { csrfToken: string }).csrfToken;
    const begin = await s.app.inject({
      method: "POST",
      url: "/api/v1/auth/totp/begin",
      headers: { cookie, "x-csrf-token": csrf },
    });
    assert.equal(begin.statusCode, 200, begin.body);
    const secret = (JSON.parse(begin.body) as { secret: string }).secret;
    const confirm = await s.app.inject({
      method: "POST",
      url: "/api/v1/auth/totp/confirm",
      headers: { cookie, "x-csrf-token": csrf },
      payload: { code: await totpCode(secret) },
    });
    assert.equal(confirm.statusCode, 200, confirm.body);
    // The token made with the password alone died with the enrolment; the new session works.
    assert.equal((await call(h.token, "GET", `/api/v1/repositories/${repoId}`)).status, 401);
    const fresh = String(confirm.headers["set-cookie"]).split(";")[0]!;
    const withMfa = await s.app.inject({
      method: "GET",
      url: `/api/v1/repositories/${repoId}`,
      headers: { cookie: fresh },
    });
    assert.equal(withMfa.statusCode, 200, withMfa.body);
    await call(acmeAdmin.token, "PUT", "/api/v1/organizations/acme/settings", { requireMfa: false });
  });
});

describe("failed token authentication", () => {
  it("is throttled per client address; a valid token still works, from there and elsewhere", async () => {
    const bad = "alk_pat_" + "x".repeat(40);
    let last = 0;
    for (let i = 0; i < CLIENT_POLICY.maxFailures; i++)
      last = (await call(bad, "GET", "/api/v1/runs", undefined, "203.0.113.9")).status;
    assert.equal(last, 429);
    const refused = await call(bad, "GET", "/api/v1/runs", undefined, "203.0.113.9");
    assert.equal(refused.status, 429);
    assert.equal(refused.body.error?.code, "RATE_LIMITED");
    // One client behind a shared address cannot lock the others out: a valid token is accepted.
    assert.equal((await call(s.admin, "GET", "/api/v1/runs", undefined, "203.0.113.9")).status, 200);
    assert.equal((await call(bad, "GET", "/api/v1/runs", undefined, "203.0.113.10")).status, 401);
    now += CLIENT_POLICY.lockBaseMs + 1;
    assert.equal((await call(bad, "GET", "/api/v1/runs", undefined, "203.0.113.9")).status, 401);
  });

  it("parallel guesses cannot flood the audit log past the limit", async () => {
    const bad = "alk_pat_" + "y".repeat(40);
    const statuses = await Promise.all(
      Array.from({ length: 200 }, () => call(bad, "GET", "/api/v1/runs", undefined, "198.51.100.99")),
    );
    assert.ok(statuses.every((r) => r.status === 401 || r.status === 429));
    assert.ok(statuses.some((r) => r.status === 429));
    const { rows } = await s.db.pool.query(
      "SELECT count(*)::int AS n FROM audit_log WHERE action = 'auth.token_failed' AND client_address = '198.51.100.99'",
    );
    assert.ok(rows[0].n < CLIENT_POLICY.maxFailures, `recorded ${rows[0].n}`);
  });
});

describe("authentication in the audit log", () => {
  it("records logins, failed logins and failed tokens, never a password or a token secret", async () => {
    const pw = "jill's long password";
    await person("jill", { password: pw });
    const login = (password: string) =>
      s.app.inject({
        method: "POST",
        url: "/api/v1/auth/login",
        remoteAddress: "192.0.2.44",
        payload: { user: "jill", password },
      });
    assert.equal((await login("not jill's password")).statusCode, 401);
    // A password typed into the name field is not kept.
    const typo = await s.app.inject({
      method: "POST",
      url: "/api/v1/auth/login",
      remoteAddress: "192.0.2.46",
      payload: { user: "my secret p@ss\u202e", password: "x" },
    });
    assert.equal(typo.statusCode, 401);
    assert.equal((await login(pw)).statusCode, 200);
    const ghost = "alk_pat_" + "Q".repeat(40);
    assert.equal((await call(ghost, "GET", "/api/v1/runs", undefined, "192.0.2.45")).status, 401);
    const r = await call(s.admin, "GET", "/api/v1/audit?action=login");
    const entries = r.body as unknown as Array<{
      action: string;
      clientAddress: string;
      details: Record<string, unknown>;
    }>;
    const mine = entries
      .filter((e) => e.clientAddress === "192.0.2.44")
      .map((e) => [e.action, e.details.user ?? null]);
    assert.deepEqual(mine, [
      ["login.succeeded", null],
      ["login.failed", "jill"],
    ]);
    const failedTokens = await call(s.admin, "GET", "/api/v1/audit?action=auth.token_failed");
    assert.ok(
      (failedTokens.body as unknown as Array<{ clientAddress: string }>).some(
        (e) => e.clientAddress === "192.0.2.45",
      ),
    );
    const all = JSON.stringify((await call(s.admin, "GET", "/api/v1/audit?limit=1000")).body);
    for (const secret of [pw, "not jill's password", ghost, "my secret p@ss"])
      assert.ok(!all.includes(secret), secret);
  });
});
