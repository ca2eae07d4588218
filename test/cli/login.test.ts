// `airlock login`, `whoami`, `logout`, and the users, roles and tokens commands against the real
// service (real database, real HTTP): the password comes from standard input or a prompt, never
// from argv; the token the CLI keeps is a personal token in cli.json with mode 0600, revoked by
// logout; a user with TOTP needs the code.
import assert from "node:assert/strict";
import { stat, readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createUser, totpCode } from "../../src/auth/index.js";
import { startTestService, type TestService } from "../helpers/service.js";
import { runCli, tempHome } from "./harness.js";

let t: TestService;
let home: ReturnType<typeof tempHome>;
let admin: NodeJS.ProcessEnv;
const env = (): NodeJS.ProcessEnv => ({ AIRLOCK_SERVER: t.service.url, AIRLOCK_HOME: home.dir });

before(async () => {
  t = await startTestService();
  home = tempHome();
  admin = { ...env(), AIRLOCK_TOKEN: t.service.adminToken! };
  await createUser(t.db.pool, { name: "kim", password: "kim's long password" });
});
after(async () => {
  await t?.stop();
  home?.remove();
});

describe("airlock login", () => {
  it("logs in with a password from standard input and keeps a personal token with mode 0600", async () => {
    const bad = await runCli(["login", "--user", "kim", "--password-stdin"], env(), {
      stdin: "wrong password!\n",
    });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^airlock: invalid user name or password\n$/);
    const r = await runCli(["login", "--user", "kim", "--password-stdin"], env(), {
      stdin: "kim's long password\n",
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Logged in to .* as kim; the token is in .*cli\.json \(mode 0600\)/);
    const path = join(home.dir, "cli.json");
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    const file = JSON.parse(await readFile(path, "utf8")) as { server: string; token: string; user: string };
    assert.match(file.token, /^alk_pat_/);
    assert.equal(file.user, "kim");
    assert.ok(!(await readFile(path, "utf8")).includes("kim's long password"));
    // The login session was ended: only the token remains.
    const { rows } = await t.db.pool.query(
      "SELECT count(*)::int AS n FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.name = 'kim'",
    );
    assert.equal(rows[0].n, 0);
    const who = await runCli(["whoami"], env());
    assert.equal(who.code, 0, who.stderr);
    assert.equal(who.stdout, "kim\n");
  });

  it("logout revokes the token on the server and forgets it", async () => {
    const file = JSON.parse(await readFile(join(home.dir, "cli.json"), "utf8")) as { token: string };
    const out = await runCli(["logout"], env());
    assert.equal(out.code, 0, out.stderr);
    const res = await fetch(`${t.service.url}/api/v1/me`, {
      headers: { authorization: `Bearer ${file.token}` },
    });
    assert.equal(res.status, 401);
    const after = JSON.parse(await readFile(join(home.dir, "cli.json"), "utf8")) as { token?: string };
    assert.equal(after.token, undefined);
    assert.equal((await runCli(["whoami"], env())).code, 1);
  });

  it("asks for the TOTP code of a user who has one; a wrong code fails", async () => {
    const pw = "lee's long password";
    await createUser(t.db.pool, { name: "lee", password: pw });
    const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    await t.db.pool.query("UPDATE users SET totp_secret = $1 WHERE name = 'lee'", [secret]);
    const wrong = await runCli(["login", "--user", "lee", "--password-stdin", "--code", "000000"], env(), {
      stdin: pw,
    });
    if ((await totpCode(secret)) !== "000000") {
      assert.equal(wrong.code, 1);
      assert.match(wrong.stderr, /invalid code/);
    }
    const asked: string[] = [];
    const r = await runCli(["login"], env(), {
      prompt: async (q, hidden) => {
        asked.push(`${q}${hidden ? " (hidden)" : ""}`);
        if (q.startsWith("User")) return "lee";
        if (q.startsWith("Password")) return pw;
        return totpCode(secret);
      },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(asked, [
      "User: ",
      "Password for lee:  (hidden)",
      "TOTP code (or a recovery code):  (hidden)",
    ]);
  });

  it("--with-token checks a token from standard input before keeping it", async () => {
    const bogus = await runCli(["login", "--with-token"], env(), { stdin: "alk_pat_nope\n" });
    assert.equal(bogus.code, 1);
    const r = await runCli(["login", "--with-token"], env(), { stdin: `${t.service.adminToken}\n` });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /as admin \(server administrator\)/);
  });

  it("without a terminal or --password-stdin it says how to pass the password", async () => {
    const r = await runCli(["login", "--user", "kim"], env());
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--password-stdin/);
  });
});

describe("airlock users, roles, tokens", () => {
  it("adds a user, grants a role, makes a token, and revokes it", async () => {
    assert.equal((await runCli(["orgs", "add", "acme"], admin)).code, 0);
    const add = await runCli(["users", "add", "max", "--password-stdin"], admin, {
      stdin: "max's long password\n",
    });
    assert.equal(add.code, 0, add.stderr);
    assert.match(add.stdout, /no role until one is granted/);
    const weak = await runCli(["users", "add", "ned", "--password-stdin"], admin, { stdin: "short\n" });
    assert.equal(weak.code, 1);
    assert.match(weak.stderr, /^airlock: a password must be at least 12 characters long\n$/);
    const grant = await runCli(["roles", "grant", "max", "maintainer", "--org", "acme"], admin);
    assert.equal(grant.code, 0, grant.stderr);
    assert.equal(grant.stdout, "max is now maintainer of organization acme.\n");
    const list = await runCli(["roles", "list", "--org", "acme"], admin);
    assert.match(list.stdout, /max\s+maintainer\s+organization acme/);
    assert.equal((await runCli(["roles", "grant", "max", "owner", "--org", "acme"], admin)).code, 2);
    assert.equal((await runCli(["roles", "list"], admin)).code, 2);
    const show = await runCli(["users", "show", "max"], admin);
    assert.match(show.stdout, /maintainer of organization acme/);

    const made = await runCli(
      ["tokens", "create", "deploy", "--org", "acme", "--scopes", "runs:write", "--days", "7"],
      admin,
    );
    assert.equal(made.code, 0, made.stderr);
    const token = /(alk_svc_\S+)/.exec(made.stdout)?.[1];
    assert.ok(token);
    const listed = await runCli(["tokens", "list", "--org", "acme"], admin);
    assert.match(listed.stdout, /deploy\s+\S+\s+runs:write\s+.*active/);
    assert.ok(!listed.stdout.includes(token));
    const id = /id (\d+)/.exec(made.stdout)?.[1];
    assert.equal((await runCli(["tokens", "revoke", id!, "--org", "acme"], admin)).code, 0);
    assert.match((await runCli(["tokens", "list", "--org", "acme"], admin)).stdout, /revoked/);

    const off = await runCli(["users", "disable", "max"], admin);
    assert.equal(off.stdout, "User max disabled.\n");
    assert.match((await runCli(["users", "list"], admin)).stdout, /max\s+no\s+yes\s+yes\s+no/);
    assert.equal(
      (await runCli(["orgs", "require-mfa", "acme", "on"], admin)).stdout,
      "Organization acme: MFA required.\n",
    );
  });
});
