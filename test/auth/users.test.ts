// Built-in users on a real PostgreSQL: the password policy and argon2id at creation, names unique
// without regard to case, imported bcrypt hashes, password change killing earlier credentials,
// disabling, and the bootstrap admin: created once (also under concurrent starts) with its
// password in a 0600 file, and recreated (and said so) when deleted.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import bcrypt from "bcryptjs";
import {
  createUser,
  deleteUser,
  ensureAdminUser,
  findUserByName,
  passwordHashOf,
  setPassword,
  setUserDisabled,
} from "../../src/auth/users.js";
import { verifyPassword } from "../../src/auth/password.js";
import { isAirlockError } from "../../src/errors/index.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";

let db: TestDatabase;
let dir: string;
before(async () => {
  db = await createTestDatabase();
  dir = mkdtempSync(path.join(os.tmpdir(), "airlock-users-"));
});
after(async () => {
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

const validAfter = async (id: number): Promise<number> =>
  (
    await db.pool.query<{ t: Date }>("SELECT credentials_valid_after AS t FROM users WHERE id = $1", [id])
  ).rows[0]!.t.getTime();

describe("built-in users", () => {
  it("creates users with argon2id hashes; refuses weak passwords, bad names and duplicates", async () => {
    const u = await createUser(db.pool, { name: "alice", password: "correct horse battery" });
    assert.equal(u.hasPassword, true);
    const stored = await passwordHashOf(db.pool, "ALICE");
    assert.equal(stored?.id, u.id);
    assert.match(stored.hash!, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.equal((await verifyPassword(stored.hash!, "correct horse battery")).ok, true);
    await assert.rejects(createUser(db.pool, { name: "Alice", password: "another long password" }), (e) =>
      isAirlockError(e, "CONFLICT"),
    );
    await assert.rejects(createUser(db.pool, { name: "bob", password: "short" }), (e) =>
      isAirlockError(e, "PASSWORD_INVALID"),
    );
    await assert.rejects(createUser(db.pool, { name: "-rf", password: "a fine long password" }), (e) =>
      isAirlockError(e, "USAGE"),
    );
    await assert.rejects(
      createUser(db.pool, { name: "bob; DROP TABLE users", password: "x".repeat(20) }),
      (e) => isAirlockError(e, "USAGE"),
    );
    assert.equal(await findUserByName(db.pool, "bob"), undefined);
  });

  it("accepts an imported bcrypt hash (to be upgraded at the next login)", async () => {
    const hash = bcrypt.hashSync("imported password 1", 4);
    const u = await createUser(db.pool, { name: "carol", passwordHash: hash });
    const stored = await passwordHashOf(db.pool, "carol");
    assert.equal(stored?.hash, hash);
    assert.deepEqual(await verifyPassword(stored.hash, "imported password 1"), {
      ok: true,
      needsRehash: true,
    });
    assert.equal(u.hasPassword, true);
    await assert.rejects(createUser(db.pool, { name: "dave", passwordHash: "md5:abc" }), (e) =>
      isAirlockError(e, "USAGE"),
    );
  });

  it("a password change or disabling kills earlier credentials", async () => {
    const u = await createUser(db.pool, { name: "erin", password: "first long password" });
    const t0 = await validAfter(u.id);
    await setPassword(db.pool, u.id, "second long password");
    const t1 = await validAfter(u.id);
    assert.ok(t1 > t0);
    const stored = await passwordHashOf(db.pool, "erin");
    assert.equal((await verifyPassword(stored!.hash!, "first long password")).ok, false);
    assert.equal((await verifyPassword(stored!.hash!, "second long password")).ok, true);
    await assert.rejects(setPassword(db.pool, u.id, "erin"), (e) => isAirlockError(e, "PASSWORD_INVALID"));
    await setUserDisabled(db.pool, u.id, true);
    assert.equal((await findUserByName(db.pool, "erin"))?.disabled, true);
    assert.ok((await validAfter(u.id)) > t1);
  });
});

describe("the bootstrap admin", () => {
  it("is created once, under concurrent starts, with its password in a 0600 file", async () => {
    const pools = [0, 1, 2].map(() => new pg.Pool({ connectionString: db.url, max: 2 }));
    try {
      const file = path.join(dir, "admin-password");
      const results = await Promise.all(pools.map((p) => ensureAdminUser(p, file)));
      assert.deepEqual(results.map((r) => r.outcome).sort(), ["created", "exists", "exists"]);
      const made = results.find((r) => r.outcome === "created")!;
      assert.equal(readFileSync(file, "utf8"), `${made.password}\n`);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      const stored = await passwordHashOf(db.pool, "admin");
      assert.equal((await verifyPassword(stored!.hash!, made.password!)).ok, true);
      assert.equal((await findUserByName(db.pool, "admin"))?.serverAdmin, true);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  it("is recreated with a new password when deleted, and says so", async () => {
    const file = path.join(dir, "admin-password");
    const old = readFileSync(file, "utf8");
    const admin = await findUserByName(db.pool, "admin");
    await deleteUser(db.pool, admin!.id);
    const r = await ensureAdminUser(db.pool, file);
    assert.equal(r.outcome, "recreated");
    assert.notEqual(`${r.password}\n`, old);
    assert.equal(readFileSync(file, "utf8"), `${r.password}\n`);
    assert.equal((await ensureAdminUser(db.pool, file)).outcome, "exists");
  });
});
