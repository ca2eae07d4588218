// GitHub, GitLab and Bitbucket login over HTTP (in-process server, real PostgreSQL) against local
// fake authorization servers written to each forge's documented contract (test/helpers/
// fake-forges.ts): state always, PKCE for GitHub and GitLab, the Basic client authentication of
// Bitbucket; the identity is (forge, immutable user id), so a renamed login is the same user and
// another account that took the old login name is another user.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { stringify } from "yaml";
import { loadServerConfig } from "../../src/server/index.js";
import { startFakeForges, type FakeForges, type Forge } from "../helpers/fake-forges.js";
import { PUBLIC_URL, startTestServer, type TestServer } from "./helpers.js";
import { me, ssoLogin } from "./sso-helpers.js";

let dir: string;
let forges: FakeForges;
let s: TestServer;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "airlock-sso-forges-"));
  forges = await startFakeForges();
  // Written with blanks around it: the server trims what it reads.
  await writeFile(join(dir, "forge-secret"), `  ${forges.clientSecret}  \n`, { mode: 0o600 });
  const file = join(dir, "airlock.yaml");
  await writeFile(file, stringify({ auth: forges.config(join(dir, "forge-secret")) }));
  s = await startTestServer({ auth: loadServerConfig({ file, env: {} }).auth });
});
after(async () => {
  await s?.close();
  await forges?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("forge login over HTTP", () => {
  for (const forge of ["github", "gitlab", "bitbucket"] as Forge[]) {
    it(`${forge}: the identity is the immutable user id, so a renamed login is the same user`, async () => {
      const id = forge === "bitbucket" ? "{1f2e3d4c-5b6a-4789-9abc-def012345678}" : 4242;
      forges.accounts[forge].set("acct", { id, login: `${forge}-octo`, name: "Octo" });
      const first = await ssoLogin(s, `/api/v1/auth/oauth/${forge}/start?return=/x`, (u) =>
        forges.approve(u, "acct"),
      );
      assert.equal(first.status, 302, first.body);
      assert.equal(first.location, `${PUBLIC_URL}/x`);
      const q = forges.authorizeRequests.at(-1)!.query;
      assert.equal(q.get("client_id"), forges.clientId);
      assert.equal(q.get("redirect_uri"), `${PUBLIC_URL}/api/v1/auth/oauth/${forge}/callback`);
      assert.ok(q.get("state"));
      assert.equal(q.get("code_challenge_method"), forge === "bitbucket" ? null : "S256");
      const user = JSON.parse((await me(s, first.session!)).body) as { id: number; name: string };
      assert.equal(user.name, `${forge}-octo`);
      const ident = await s.db.pool.query("SELECT subject FROM user_identities WHERE provider = $1", [forge]);
      assert.deepEqual(ident.rows, [{ subject: String(id) }]);

      forges.accounts[forge].set("acct", { id, login: `${forge}-renamed` });
      const second = await ssoLogin(s, `/api/v1/auth/oauth/${forge}/start`, (u) => forges.approve(u, "acct"));
      assert.equal(second.status, 302, second.body);
      const again = JSON.parse((await me(s, second.session!)).body) as { id: number; name: string };
      assert.equal(again.id, user.id);
      assert.equal(again.name, `${forge}-octo`);

      // Another account that took the old login name at the forge is another user.
      const otherId = forge === "bitbucket" ? "{0a0b0c0d-0e0f-4000-8000-000000000001}" : 777;
      forges.accounts[forge].set("squatter", { id: otherId, login: `${forge}-octo` });
      const third = await ssoLogin(s, `/api/v1/auth/oauth/${forge}/start`, (u) =>
        forges.approve(u, "squatter"),
      );
      const squatter = JSON.parse((await me(s, third.session!)).body) as { id: number; name: string };
      assert.notEqual(squatter.id, user.id);
      assert.equal(squatter.name, `${forge}-octo-2`);
    });
  }

  it("refuses a code the forge does not accept (its error code in the audit log, not for the browser)", async () => {
    forges.accounts.github.set("acct-2", { id: 99, login: "someone" });
    const r = await ssoLogin(s, "/api/v1/auth/oauth/github/start", (u) => forges.approve(u, "acct-2"), {
      alterCallback: (p) => p.replace(/code=[^&]*/, "code=not-a-code"),
    });
    assert.equal(r.status, 401);
    assert.equal(JSON.parse(r.body).error.code, "SSO_FAILED");
    const { rows } = await s.db.pool.query<{ details: Record<string, unknown> }>(
      "SELECT details FROM audit_log WHERE action = 'login.failed' ORDER BY seq DESC LIMIT 1",
    );
    assert.deepEqual(rows[0]!.details, {
      method: "github",
      reason: "token_request_refused",
      detail: "bad_verification_code",
    });
  });
});
