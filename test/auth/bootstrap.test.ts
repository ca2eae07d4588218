// The built-in admin user through real server starts: made at the first start with its password
// in a 0600 file (and the password logs in over HTTP), left alone at the next start, and made
// again, with a new password and an audit entry, at the start after it was deleted.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startService } from "../../src/service/index.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";

let db: TestDatabase;
let dataDir: string;
before(async () => {
  db = await createTestDatabase();
  dataDir = await mkdtemp(join(tmpdir(), "airlock-bootstrap-"));
});
after(async () => {
  await db?.drop();
  await rm(dataDir, { recursive: true, force: true });
});

const start = () =>
  startService({
    env: {
      ...process.env,
      AIRLOCK_DATABASE_URL: db.url,
      AIRLOCK_DATA_DIR: dataDir,
      AIRLOCK_LOG_LEVEL: "silent",
    },
    overrides: { listenPort: 0 },
    cliConfigPath: null,
  });

async function loginStatus(url: string, password: string): Promise<number> {
  const res = await fetch(`${url}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ user: "admin", password }),
  });
  return res.status;
}

describe("the admin user at server start", () => {
  it("is made once, recreated after deletion, and the recreation is in the audit log", async () => {
    const file = join(dataDir, "admin-password");
    const first = await start();
    let password: string;
    try {
      assert.equal(first.adminUser?.outcome, "created");
      password = first.adminUser.password!;
      assert.equal(first.adminUser?.passwordFile, file);
      assert.equal(await readFile(file, "utf8"), `${password}\n`);
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      assert.equal(await loginStatus(first.url, password), 200);
      assert.equal(await loginStatus(first.url, `${password}x`), 401);
    } finally {
      await first.stop();
    }

    const second = await start();
    try {
      assert.equal(second.adminUser, undefined, "an existing admin is left alone");
      assert.equal(await loginStatus(second.url, password), 200);
    } finally {
      await second.stop();
    }

    await db.pool.query("DELETE FROM users WHERE name = 'admin'");
    const third = await start();
    try {
      assert.equal(third.adminUser?.outcome, "recreated");
      assert.notEqual(third.adminUser?.password, password);
      assert.equal(await loginStatus(third.url, password), 401, "the old password is gone with the old user");
      assert.equal(await loginStatus(third.url, third.adminUser.password!), 200);
    } finally {
      await third.stop();
    }
    const { rows } = await db.pool.query<{ action: string; actor_kind: string }>(
      "SELECT action, actor_kind FROM audit_log WHERE action LIKE 'user.admin_%' ORDER BY seq",
    );
    assert.deepEqual(
      rows.map((r) => [r.action, r.actor_kind]),
      [
        ["user.admin_created", "system"],
        ["user.admin_recreated", "system"],
      ],
    );
  });
});
