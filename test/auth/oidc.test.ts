// OpenID Connect login against a real OpenID Provider (oidc-provider 8, started by the fixture) and
// a real PostgreSQL: the code flow with PKCE makes a user with no role, found again by `sub` after a
// rename; names derived with suffixes; groups mapped to roles at each login (hand-made grants kept).
// The refusals are in oidc-refusals.test.ts.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startOidcFixture, type OidcFixture } from "./oidc-fixture.js";

let f: OidcFixture;
before(async () => {
  f = await startOidcFixture();
});
after(async () => {
  await f?.close();
});

describe("OpenID Connect login", () => {
  it("code flow with PKCE makes a user with no role, found again by sub after a rename", async () => {
    f.op.accounts.set("sub-alice", {
      preferred_username: "alice",
      name: "Alice A",
      email: "alice@example.test",
    });
    const fl = await f.flow("corp", "sub-alice");
    const q = fl.start.redirect.searchParams;
    assert.equal(q.get("code_challenge_method"), "S256");
    assert.match(q.get("code_challenge") ?? "", /^[A-Za-z0-9_-]{43}$/);
    assert.ok(q.get("state") && q.get("nonce"));
    assert.equal(q.get("scope"), "openid profile email groups");
    const first = await fl.finish();
    assert.equal(first.created, true);
    assert.equal(first.user.name, "alice");
    assert.equal(first.user.displayName, "Alice A");
    assert.equal(first.user.serverAdmin, false);
    assert.equal(first.user.hasPassword, false);
    assert.equal(first.returnTo, "/after");
    const grants = await f.db.pool.query("SELECT 1 FROM role_grants WHERE user_id = $1", [first.user.id]);
    assert.equal(grants.rowCount, 0);
    const ident = await f.db.pool.query("SELECT provider, subject FROM user_identities WHERE user_id = $1", [
      first.user.id,
    ]);
    assert.deepEqual(ident.rows, [{ provider: "oidc:corp", subject: "sub-alice" }]);

    f.op.accounts.set("sub-alice", { preferred_username: "alice.renamed", name: "Alice B" });
    const second = await (await f.flow("corp", "sub-alice")).finish();
    assert.equal(second.created, false);
    assert.equal(second.user.id, first.user.id);
    assert.equal(second.user.name, "alice");
    assert.equal(second.user.displayName, "Alice B");
    assert.notEqual(second.session.id, first.session.id);

    const audit = await f.db.pool.query<{ action: string; n: string }>(
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
    f.op.accounts.set("sub-alice-2", { preferred_username: "Alice" });
    f.op.accounts.set("sub-admin", { preferred_username: "admin" });
    f.op.accounts.set("sub-odd", { preferred_username: "--Ünïcode user!!" });
    const a = await (await f.flow("corp", "sub-alice-2")).finish();
    assert.equal(a.user.name, "Alice-2");
    const b = await (await f.flow("corp", "sub-admin")).finish();
    assert.equal(b.user.name, "admin-2");
    assert.equal(b.user.serverAdmin, false);
    const c = await (await f.flow("corp", "sub-odd")).finish();
    assert.equal(c.user.name, "Unicode-user");
  });

  it("maps groups to roles at each login, keeps hand-made grants, drops mapped ones whose group is gone", async () => {
    f.op.accounts.set("sub-bob", { preferred_username: "bob", groups: ["ci-admins", "team-a", "team-b"] });
    const first = await (await f.flow("corp", "sub-bob")).finish();
    const id = first.user.id;
    assert.equal(first.user.serverAdmin, true);
    const roles = async (): Promise<string[]> =>
      (
        await f.db.pool.query<{ g: string }>(
          `SELECT o.name || '=' || g.role || '/' || COALESCE(g.mapped_by, 'hand') AS g
             FROM role_grants g JOIN organizations o ON o.id = g.organization_id WHERE g.user_id = $1 ORDER BY 1`,
          [id],
        )
      ).rows.map((r) => r.g);
    const admin = async (): Promise<boolean> =>
      (await f.db.pool.query<{ a: boolean }>("SELECT server_admin AS a FROM users WHERE id = $1", [id]))
        .rows[0]!.a;
    assert.equal(await admin(), true);
    // The highest role of two groups on one organization.
    assert.deepEqual(await roles(), ["default=maintainer/oidc:corp"]);

    // An administrator grants a role on `other` by hand; the mapping does not override it.
    await f.db.pool.query(
      "INSERT INTO role_grants (user_id, organization_id, role) SELECT $1, id, 'viewer' FROM organizations WHERE name = 'other'",
      [id],
    );
    f.op.accounts.set("sub-bob", { preferred_username: "bob", groups: ["team-b", "other-admins"] });
    await (await f.flow("corp", "sub-bob")).finish();
    assert.equal(await admin(), false);
    assert.deepEqual(await roles(), ["default=viewer/oidc:corp", "other=viewer/hand"]);
    const mapped = await f.db.pool.query<{ details: Record<string, unknown> }>(
      "SELECT details FROM audit_log WHERE action = 'user.roles_mapped' AND object_id = $1 ORDER BY seq DESC LIMIT 1",
      [String(id)],
    );
    assert.deepEqual(mapped.rows[0]!.details.unknown, ["organization missing-org"]);

    f.op.accounts.set("sub-bob", { preferred_username: "bob", groups: [] });
    await (await f.flow("corp", "sub-bob")).finish();
    assert.deepEqual(await roles(), ["other=viewer/hand"]);
  });

  it("a server administrator made by hand stays one when the groups say otherwise", async () => {
    f.op.accounts.set("sub-carol", { preferred_username: "carol", groups: [] });
    const first = await (await f.flow("corp", "sub-carol")).finish();
    await f.db.pool.query("UPDATE users SET server_admin = true WHERE id = $1", [first.user.id]);
    const again = await (await f.flow("corp", "sub-carol")).finish();
    assert.equal(again.user.serverAdmin, true);
  });
});
