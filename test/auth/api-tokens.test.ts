// Personal and service API tokens on a real PostgreSQL: shown once and stored as a digest, scopes
// validated, found by public id with the secret checked, and dead when expired, revoked, their
// user disabled or logged out everywhere; last use recorded.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  authenticateApiToken,
  createApiToken,
  listApiTokens,
  revokeApiToken,
} from "../../src/auth/api-tokens.js";
import { endAllSessions } from "../../src/auth/sessions.js";
import { createUser, setUserDisabled } from "../../src/auth/users.js";
import { isAirlockError } from "../../src/errors/index.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";

let db: TestDatabase;
let alice: number;
before(async () => {
  db = await createTestDatabase();
  alice = (await createUser(db.pool, { name: "alice" })).id;
});
after(async () => {
  await db?.drop();
});

describe("API tokens", () => {
  it("are shown once, stored as a digest, and authenticate with their scopes", async () => {
    const { token, info } = await createApiToken(db.pool, {
      kind: "personal",
      name: "laptop",
      scopes: ["runs:read", "repos:read"],
      userId: alice,
    });
    assert.match(token, /^alk_pat_/);
    const dump = JSON.stringify((await db.pool.query("SELECT * FROM api_tokens")).rows);
    assert.ok(!dump.includes(token.split("_").slice(3).join("_")), "the secret part is not stored");
    const p = await authenticateApiToken(db.pool, token);
    assert.deepEqual(p, {
      tokenId: info.id,
      kind: "personal",
      userId: alice,
      organizationId: null,
      scopes: ["runs:read", "repos:read"],
    });
    const [listed] = await listApiTokens(db.pool, { userId: alice });
    assert.ok(listed?.lastUsedAt, "last use recorded");
    assert.equal(JSON.stringify(listed).includes(token), false);
  });

  it("refuse garbage, a wrong secret, unknown scopes and bad lifetimes", async () => {
    const { token } = await createApiToken(db.pool, {
      kind: "personal",
      name: "x",
      scopes: ["admin"],
      userId: alice,
    });
    // One character of the secret changed (to one it is not, whatever the random token holds).
    const wrongSecret = token.slice(0, -10) + (token.at(-10) === "A" ? "B" : "A") + token.slice(-9);
    for (const t of ["", "alk_pat_", "Bearer x", wrongSecret, token + "x", token.toUpperCase()])
      assert.equal(await authenticateApiToken(db.pool, t), undefined, t);
    await assert.rejects(
      createApiToken(db.pool, { kind: "personal", name: "x", scopes: ["root"], userId: alice }),
      (e) => isAirlockError(e, "SCOPE_INVALID"),
    );
    await assert.rejects(
      createApiToken(db.pool, { kind: "personal", name: "x", scopes: ["admin"], userId: alice, days: 400 }),
      (e) => isAirlockError(e, "USAGE"),
    );
    await assert.rejects(createApiToken(db.pool, { kind: "service", name: "x", scopes: ["admin"] }), (e) =>
      isAirlockError(e, "USAGE"),
    );
  });

  it("die when expired, revoked, their user disabled or logged out everywhere", async () => {
    const mk = async (name: string) =>
      (await createApiToken(db.pool, { kind: "personal", name, scopes: ["runs:read"], userId: alice })).token;
    const expired = await mk("expired");
    await db.pool.query(
      "UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE name = 'expired'",
    );
    assert.equal(await authenticateApiToken(db.pool, expired), undefined);

    const revoked = await createApiToken(db.pool, {
      kind: "personal",
      name: "revoked",
      scopes: ["runs:read"],
      userId: alice,
    });
    assert.ok(await authenticateApiToken(db.pool, revoked.token));
    await revokeApiToken(db.pool, revoked.info.id);
    assert.equal(await authenticateApiToken(db.pool, revoked.token), undefined);
    await assert.rejects(revokeApiToken(db.pool, 999999), (e) => isAirlockError(e, "NOT_FOUND"));

    const live = await mk("live");
    await setUserDisabled(db.pool, alice, true);
    assert.equal(await authenticateApiToken(db.pool, live), undefined, "disabled user");
    await setUserDisabled(db.pool, alice, false);
    assert.equal(await authenticateApiToken(db.pool, live), undefined, "made before the disable: stays dead");
    const after = await mk("after");
    assert.ok(await authenticateApiToken(db.pool, after));
    await endAllSessions(db.pool, alice);
    assert.equal(await authenticateApiToken(db.pool, after), undefined, "log out everywhere");
  });
});
