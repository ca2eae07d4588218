// `airlock server rotate-admin-password` as a process, with the server's settings (an external
// database here): the built-in admin gets a new password, printed once and written 0600 to
// <data dir>/admin-password; the old password, the admin's sessions and API tokens stop working at
// once; the rotation is audited without the password. A refusal (no admin) is one line and changes
// nothing.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  authenticateApiToken,
  createApiToken,
  createSession,
  ensureAdminUser,
  lookupSession,
  verifyPassword,
} from "../../src/auth/index.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), "airlock-admin-password-"));
const passwordFile = join(dataDir, "admin-password");
let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(async () => {
  await db?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** The real CLI (from the sources) with the server's environment. */
function airlock(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = `import { main } from "./src/cli/main.ts"; process.exitCode = await main(["node", "airlock", ...${JSON.stringify(args)}]);`;
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: root,
    env: { ...process.env, AIRLOCK_DATABASE_URL: db.url, AIRLOCK_DATA_DIR: dataDir, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

async function adminHash(): Promise<string> {
  const { rows } = await db.pool.query<{ password_hash: string }>(
    "SELECT password_hash FROM users WHERE name = 'admin'",
  );
  return rows[0]!.password_hash;
}

describe("airlock server rotate-admin-password", () => {
  it("writes a new password; the old one, the admin's sessions and tokens end; audited", async () => {
    const first = await ensureAdminUser(db.pool, passwordFile);
    assert.equal(first.outcome, "created");
    const { rows } = await db.pool.query<{ id: string }>("SELECT id FROM users WHERE name = 'admin'");
    const adminId = Number(rows[0]!.id);
    const session = await createSession(db.pool, adminId, { complete: true });
    const token = (
      await createApiToken(db.pool, { kind: "personal", name: "cli", scopes: ["admin"], userId: adminId })
    ).token;
    assert.ok(await lookupSession(db.pool, session.id));
    assert.ok(await authenticateApiToken(db.pool, token));

    const r = await airlock(["server", "rotate-admin-password"]);
    assert.equal(r.code, 0, r.stderr);
    const password = readFileSync(passwordFile, "utf8").trim();
    assert.notEqual(password, first.password);
    assert.equal(statSync(passwordFile).mode & 0o777, 0o600);
    assert.ok(r.stdout.includes(`  ${password}\n`), "printed once");
    assert.match(r.stdout, new RegExp(`also in ${passwordFile}`));
    assert.equal((await verifyPassword(await adminHash(), password)).ok, true);
    assert.equal((await verifyPassword(await adminHash(), first.password!)).ok, false, "old password dead");
    assert.equal(await lookupSession(db.pool, session.id), undefined, "session ended");
    assert.equal(await authenticateApiToken(db.pool, token), undefined, "token ended");

    const audit = await db.pool.query<{ action: string; actor_kind: string; details: unknown }>(
      "SELECT action, actor_kind, details FROM audit_log WHERE action = 'user.admin_password_rotated'",
    );
    assert.equal(audit.rows.length, 1);
    assert.equal(audit.rows[0]!.actor_kind, "system");
    const text = JSON.stringify(audit.rows);
    assert.ok(!text.includes(password) && !text.includes(first.password!));
  });

  it("refuses in one line, changing nothing, when there is no admin", async () => {
    const before = readFileSync(passwordFile, "utf8");
    await db.pool.query("DELETE FROM users WHERE name = 'admin'");
    const none = await airlock(["server", "rotate-admin-password"]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^airlock: there is no user admin: the server's next start makes it/);
    assert.equal(none.stderr.trim().split("\n").length, 1);
    assert.equal(readFileSync(passwordFile, "utf8"), before, "the password file is untouched");
  });
});
