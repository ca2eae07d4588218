// Logging in over HTTP with built-in users (in-process server, real PostgreSQL): the session
// cookie's attributes, CSRF on state-changing requests, session fixation, the same answer for an
// unknown user and a wrong password, lockout, non-admins and disabled users, TOTP enrolment and
// the second factor (code, recovery code, no replay), log out and log out everywhere.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import {
  createApiToken,
  createUser,
  findUserByName,
  revokeApiToken,
  setUserDisabled,
  totpCode,
} from "../../src/auth/index.js";
import { startTestServer, type TestServer } from "./helpers.js";

let s: TestServer;
before(async () => {
  s = await startTestServer();
  await createUser(s.db.pool, { name: "root", password: "root password long", serverAdmin: true });
  await createUser(s.db.pool, { name: "dev", password: "developer password", serverAdmin: false });
  await createUser(s.db.pool, { name: "gone", password: "disabled password", serverAdmin: true });
  const gone = await s.db.pool.query<{ id: string }>("SELECT id FROM users WHERE name = 'gone'");
  await setUserDisabled(s.db.pool, Number(gone.rows[0]!.id), true);
  await createUser(s.db.pool, { name: "mfa", password: "mfa user password", serverAdmin: true });
});
after(async () => {
  await s?.close();
});

interface Login {
  status: number;
  cookie: string | undefined;
  setCookie: string | undefined;
  body: Record<string, unknown>;
}

async function login(
  user: string,
  password: string,
  address = "203.0.113.1",
  cookie?: string,
): Promise<Login> {
  const res = await s.app.inject({
    method: "POST",
    url: "/api/v1/auth/login",
    payload: { user, password },
    remoteAddress: address,
    ...(cookie ? { headers: { cookie: `airlock_session=${cookie}` } } : {}),
  });
  const setCookie = res.headers["set-cookie"] as string | undefined;
  const cookieVal = /^airlock_session=([^;]*)/.exec(setCookie ?? "")?.[1];
  return {
    status: res.statusCode,
    cookie: cookieVal,
    setCookie,
    body: JSON.parse(res.body) as Record<string, unknown>,
  };
}

function as(cookie: string, csrf?: string) {
  return { cookie: `airlock_session=${cookie}`, ...(csrf ? { "x-csrf-token": csrf } : {}) };
}

describe("login with a built-in user", () => {
  it("GET /auth/session gives a reloaded page its user, whether the second factor is due, and the same CSRF token", async () => {
    const l = await login("dev", "developer password", "203.0.113.40");
    const res = await s.app.inject({ method: "GET", url: "/api/v1/auth/session", headers: as(l.cookie!) });
    assert.equal(res.statusCode, 200, res.body);
    const body = JSON.parse(res.body) as { user: { name: string }; complete: boolean; csrfToken: string };
    assert.equal(body.user.name, "dev");
    assert.equal(body.complete, true);
    assert.equal(body.csrfToken, l.body.csrfToken);
    // The token it gives is the session's: a write with it passes the CSRF check.
    const write = await s.app.inject({
      method: "POST",
      url: "/api/v1/auth/logout",
      headers: as(l.cookie!, body.csrfToken),
    });
    assert.equal(write.statusCode, 204);
    const gone = await s.app.inject({ method: "GET", url: "/api/v1/auth/session", headers: as(l.cookie!) });
    assert.equal(gone.statusCode, 401);
    const none = await s.app.inject({ method: "GET", url: "/api/v1/auth/session" });
    assert.equal(none.statusCode, 401);
    // Another session's token is another value.
    const other = await login("dev", "developer password", "203.0.113.41");
    assert.notEqual(other.body.csrfToken, l.body.csrfToken);
    // A session from before derived tokens (a random token's digest stored) gets the derived one
    // and can write with it; the old token stops working.
    await s.db.pool.query("UPDATE sessions SET csrf_token_hash = repeat('ab', 32) WHERE id_hash = $1", [
      createHash("sha256").update(other.cookie!).digest("hex"),
    ]);
    const older = await s.app.inject({
      method: "GET",
      url: "/api/v1/auth/session",
      headers: as(other.cookie!),
    });
    const token = (JSON.parse(older.body) as { csrfToken: string }).csrfToken;
    assert.equal(token, other.body.csrfToken);
    const writes = await s.app.inject({
      method: "POST",
      url: "/api/v1/auth/logout",
      headers: as(other.cookie!, token),
    });
    assert.equal(writes.statusCode, 204);
  });

  it("sets a HttpOnly SameSite cookie; the session uses the API; writes need the CSRF token", async () => {
    const l = await login("root", "root password long");
    assert.equal(l.status, 200, JSON.stringify(l.body));
    assert.match(l.setCookie!, /; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+; Secure$/);
    assert.equal(l.body.mfaRequired, false);
    const csrf = l.body.csrfToken as string;
    const read = await s.app.inject({ method: "GET", url: "/api/v1/repositories", headers: as(l.cookie!) });
    assert.equal(read.statusCode, 200);
    const noCsrf = await s.app.inject({
      method: "POST",
      url: "/api/v1/organizations",
      headers: as(l.cookie!),
      payload: { name: "csrf-less" },
    });
    assert.equal(noCsrf.statusCode, 403);
    assert.equal(JSON.parse(noCsrf.body).error.code, "FORBIDDEN");
    const other = await login("root", "root password long");
    const wrongCsrf = await s.app.inject({
      method: "POST",
      url: "/api/v1/organizations",
      headers: as(l.cookie!, other.body.csrfToken as string),
      payload: { name: "other-csrf" },
    });
    assert.equal(wrongCsrf.statusCode, 403, "another session's CSRF token does not do");
    const ok = await s.app.inject({
      method: "POST",
      url: "/api/v1/organizations",
      headers: as(l.cookie!, csrf),
      payload: { name: "with-csrf" },
    });
    assert.equal(ok.statusCode, 201, ok.body);
    const orgs = await s.db.pool.query(
      "SELECT name FROM organizations WHERE name IN ('csrf-less', 'other-csrf')",
    );
    assert.equal(orgs.rowCount, 0, "refused writes changed nothing");
  });

  it("never adopts a session id the client brings (session fixation)", async () => {
    const planted = "A".repeat(43);
    const l = await login("root", "root password long", "203.0.113.2", planted);
    assert.ok(l.cookie && l.cookie !== planted);
    const withPlanted = await s.app.inject({
      method: "GET",
      url: "/api/v1/repositories",
      headers: as(planted),
    });
    assert.equal(withPlanted.statusCode, 401);
  });

  it("an unknown user, a wrong password and a disabled user get the same answer", async () => {
    const answers = [
      await login("nobody-here", "whatever password", "203.0.113.3"),
      await login("root", "wrong password!!", "203.0.113.3"),
      await login("gone", "disabled password", "203.0.113.3"),
      await login("x".repeat(200), "whatever password", "203.0.113.3"),
    ];
    for (const a of answers) {
      assert.equal(a.status, 401);
      assert.equal(a.setCookie, undefined);
      assert.deepEqual(a.body, answers[0]!.body);
    }
  });

  it("locks an account after repeated failures, the same for an unknown name, even with the right password", async () => {
    for (const user of ["dev", "no-such-user"]) {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++)
        statuses.push((await login(user, `wrong ${i} password`, `198.51.100.${i + 10}`)).status);
      assert.deepEqual(statuses, [401, 401, 401, 401, 401]);
      const locked = await login(user, "developer password", "198.51.100.99");
      assert.equal(locked.status, 429, user);
      assert.equal((locked.body.error as { code: string }).code, "RATE_LIMITED");
    }
  });

  it("a user who is not a server administrator cannot use the admin API (until roles are granted)", async () => {
    const l = await login("root", "root password long", "203.0.113.5");
    assert.equal(l.status, 200);
    await createUser(s.db.pool, { name: "viewer1", password: "viewer password 1" });
    const v = await login("viewer1", "viewer password 1", "203.0.113.5");
    assert.equal(v.status, 200);
    const res = await s.app.inject({ method: "GET", url: "/api/v1/repositories", headers: as(v.cookie!) });
    assert.equal(res.statusCode, 403);
  });

  it("TOTP: enrol, then the second factor is due; a recovery code works once; a code is not replayed", async () => {
    const l = await login("mfa", "mfa user password", "203.0.113.6");
    const csrf = l.body.csrfToken as string;
    const begin = await s.app.inject({
      method: "POST",
      url: "/api/v1/auth/totp/begin",
      headers: as(l.cookie!, csrf),
    });
    assert.equal(begin.statusCode, 200, begin.body);
    const { secret, uri } = JSON.parse(begin.body) as { secret: string; uri: string };
    assert.match(uri, /^otpauth:\/\/totp\/Airlock:mfa\?/);
    const bad = await s.app.inject({
      method: "POST",
      url: "/api/v1/auth/totp/confirm",
      headers: as(l.cookie!, csrf),
      payload: { code: "000000" === (await totpCode(secret)) ? "111111" : "000000" },
    });
    assert.equal(bad.statusCode, 401);
    const confirm = await s.app.inject({
      method: "POST",
      url: "/api/v1/auth/totp/confirm",
      headers: as(l.cookie!, csrf),
      payload: { code: await totpCode(secret) },
    });
    assert.equal(confirm.statusCode, 200, confirm.body);
    const { recoveryCodes } = JSON.parse(confirm.body) as { recoveryCodes: string[] };
    assert.equal(recoveryCodes.length, 10);
    // Turning MFA on is a privilege change: the session gets a new id, the old one is dead.
    const renewed = /^airlock_session=([^;]*)/.exec(confirm.headers["set-cookie"] as string)![1]!;
    assert.notEqual(renewed, l.cookie);
    const old = await s.app.inject({ method: "GET", url: "/api/v1/auth/me", headers: as(l.cookie!) });
    assert.equal(old.statusCode, 401);
    const fresh = await s.app.inject({ method: "GET", url: "/api/v1/auth/me", headers: as(renewed) });
    assert.equal(fresh.statusCode, 200);

    const half = await login("mfa", "mfa user password", "203.0.113.7");
    assert.equal(half.body.mfaRequired, true);
    const blocked = await s.app.inject({
      method: "GET",
      url: "/api/v1/repositories",
      headers: as(half.cookie!),
    });
    assert.equal(blocked.statusCode, 403);
    const viaRecovery = await s.app.inject({
      method: "POST",
      url: "/api/v1/auth/mfa",
      headers: as(half.cookie!, half.body.csrfToken as string),
      payload: { recoveryCode: recoveryCodes[0] },
    });
    assert.equal(viaRecovery.statusCode, 200, viaRecovery.body);
    const rotated = /^airlock_session=([^;]*)/.exec(viaRecovery.headers["set-cookie"] as string)![1]!;
    assert.notEqual(rotated, half.cookie, "a new session id once the second factor passed");
    assert.equal(
      (await s.app.inject({ method: "GET", url: "/api/v1/repositories", headers: as(half.cookie!) }))
        .statusCode,
      401,
      "the pre-MFA id is dead",
    );
    assert.equal(
      (await s.app.inject({ method: "GET", url: "/api/v1/repositories", headers: as(rotated) })).statusCode,
      200,
    );

    const again = await login("mfa", "mfa user password", "203.0.113.8");
    const reuse = await s.app.inject({
      method: "POST",
      url: "/api/v1/auth/mfa",
      headers: as(again.cookie!, again.body.csrfToken as string),
      payload: { recoveryCode: recoveryCodes[0] },
    });
    assert.equal(reuse.statusCode, 401, "a recovery code works once");
    // The next step's code (within the drift window, after the step used at enrolment).
    const code = await totpCode(secret, { now: Date.now() + 30_000 });
    const first = await s.app.inject({
      method: "POST",
      url: "/api/v1/auth/mfa",
      headers: as(again.cookie!, again.body.csrfToken as string),
      payload: { code },
    });
    assert.equal(first.statusCode, 200, first.body);
    const third = await login("mfa", "mfa user password", "203.0.113.9");
    const replay = await s.app.inject({
      method: "POST",
      url: "/api/v1/auth/mfa",
      headers: as(third.cookie!, third.body.csrfToken as string),
      payload: { code },
    });
    assert.equal(replay.statusCode, 401, "a TOTP code is not accepted twice");
  });

  it("log out ends the session; log out everywhere ends them all", async () => {
    const a = await login("root", "root password long", "203.0.113.20");
    const b = await login("root", "root password long", "203.0.113.21");
    const out = await s.app.inject({
      method: "POST",
      url: "/api/v1/auth/logout",
      headers: as(a.cookie!, a.body.csrfToken as string),
    });
    assert.equal(out.statusCode, 204);
    assert.match(out.headers["set-cookie"] as string, /Max-Age=0/);
    assert.equal(
      (await s.app.inject({ method: "GET", url: "/api/v1/auth/me", headers: as(a.cookie!) })).statusCode,
      401,
    );
    const me = await s.app.inject({ method: "GET", url: "/api/v1/auth/me", headers: as(b.cookie!) });
    assert.equal(JSON.parse(me.body).name, "root");
    const c = await login("root", "root password long", "203.0.113.22");
    const all = await s.app.inject({
      method: "POST",
      url: "/api/v1/auth/logout-all",
      headers: as(c.cookie!, c.body.csrfToken as string),
    });
    assert.equal(all.statusCode, 204);
    for (const x of [b, c])
      assert.equal(
        (await s.app.inject({ method: "GET", url: "/api/v1/auth/me", headers: as(x.cookie!) })).statusCode,
        401,
      );
  });

  it("personal API tokens: a server administrator's admin-scoped token uses the API; less does not", async () => {
    const root = (await findUserByName(s.db.pool, "root"))!.id;
    const dev = (await findUserByName(s.db.pool, "dev"))!.id;
    const mk = async (userId: number, scopes: string[]) =>
      createApiToken(s.db.pool, { kind: "personal", name: "t", scopes, userId });
    const get = async (token: string) =>
      (
        await s.app.inject({
          method: "GET",
          url: "/api/v1/repositories",
          headers: { authorization: `Bearer ${token}` },
        })
      ).statusCode;
    const admin = await mk(root, ["admin"]);
    assert.equal(await get(admin.token), 200);
    assert.equal(await get((await mk(root, ["runs:read"])).token), 403);
    assert.equal(await get((await mk(dev, ["admin"])).token), 403);
    await revokeApiToken(s.db.pool, admin.info.id);
    assert.equal(await get(admin.token), 401);
    assert.equal(await get("alk_pat_garbage"), 401);
  });

  it("parallel guesses cannot slip past the limit, and a correct password does not clear second-factor failures", async () => {
    await createUser(s.db.pool, { name: "burst", password: "burst user password" });
    const statuses = await Promise.all(
      Array.from({ length: 40 }, (_, i) => login("burst", `wrong guess ${i}`, `192.0.2.${100 + i}`)),
    );
    const verified = statuses.filter((r) => r.status === 401).length;
    assert.equal(
      verified,
      5,
      `only the account's limit is tried: ${statuses.map((r) => r.status).join(",")}`,
    );
    assert.equal(statuses.filter((r) => r.status === 429).length, 35);

    // An MFA user: wrong codes, with a correct password login before each round, still lock.
    await createUser(s.db.pool, { name: "mfa2", password: "mfa2 user password", serverAdmin: true });
    const l = await login("mfa2", "mfa2 user password", "192.0.2.200");
    const begin = await s.app.inject({
      method: "POST",
      url: "/api/v1/auth/totp/begin",
      headers: as(l.cookie!, l.body.csrfToken as string),
    });
    const { secret } = JSON.parse(begin.body) as { secret: string };
    await s.app.inject({
      method: "POST",
      url: "/api/v1/auth/totp/confirm",
      headers: as(l.cookie!, l.body.csrfToken as string),
      payload: { code: await totpCode(secret) },
    });
    const wrong = (await totpCode(secret)) === "000000" ? "111111" : "000000";
    const codes: number[] = [];
    for (let round = 0; round < 3; round++) {
      const half = await login("mfa2", "mfa2 user password", `192.0.2.${201 + round}`);
      for (let i = 0; i < 2; i++) {
        const r = await s.app.inject({
          method: "POST",
          url: "/api/v1/auth/mfa",
          headers: as(half.cookie!, half.body.csrfToken as string),
          payload: { code: wrong },
          remoteAddress: `192.0.2.${201 + round}`,
        });
        codes.push(r.statusCode);
      }
    }
    assert.ok(
      codes.includes(429),
      `second-factor failures add up across password logins: ${codes.join(",")}`,
    );
  });

  it("replacing an existing TOTP takes a current code; a stolen session alone cannot", async () => {
    await createUser(s.db.pool, { name: "mfa3", password: "mfa3 user password", serverAdmin: true });
    const l = await login("mfa3", "mfa3 user password", "203.0.113.30");
    const h = as(l.cookie!, l.body.csrfToken as string);
    const begin = await s.app.inject({ method: "POST", url: "/api/v1/auth/totp/begin", headers: h });
    assert.equal(begin.statusCode, 200, "the first enrolment needs the session only");
    const { secret } = JSON.parse(begin.body) as { secret: string };
    const confirm = await s.app.inject({
      method: "POST",
      url: "/api/v1/auth/totp/confirm",
      headers: h,
      payload: { code: await totpCode(secret) },
    });
    const { recoveryCodes, csrfToken } = JSON.parse(confirm.body) as {
      recoveryCodes: string[];
      csrfToken: string;
    };
    const h2 = as(/^airlock_session=([^;]*)/.exec(confirm.headers["set-cookie"] as string)![1]!, csrfToken);
    h.cookie = h2.cookie;
    h["x-csrf-token"] = h2["x-csrf-token"];
    const replace = await s.app.inject({ method: "POST", url: "/api/v1/auth/totp/begin", headers: h });
    assert.equal(replace.statusCode, 403, "the same (complete) session alone cannot replace it");
    const withCode = await s.app.inject({
      method: "POST",
      url: "/api/v1/auth/totp/begin",
      headers: h,
      payload: { recoveryCode: recoveryCodes[0] },
    });
    assert.equal(withCode.statusCode, 200, withCode.body);
  });
});
