// `airlock secrets list|set|remove`, `airlock vars …` and `airlock secrets rotate` against the real
// service (real database, real HTTP, a local KMS in the service's data folder): a secret's value
// comes from standard input or a hidden prompt and is refused on the command line; lists never
// show it; rotation (in-process, as on the server's machine) re-wraps the organization keys while
// the server keeps reading the secrets, and --retire leaves one KMS key.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Command } from "commander";
import { registerSecretsAdmin } from "../../src/cli/secrets-admin.js";
import { readSecret, repositoryScope, type Scope } from "../../src/secrets/index.js";
import { startTestService, type TestService } from "../helpers/service.js";
import { runCli, tempHome } from "./harness.js";

let t: TestService;
let home: ReturnType<typeof tempHome>;
let env: NodeJS.ProcessEnv;
let scope: Scope;

before(async () => {
  t = await startTestService();
  home = tempHome();
  env = { AIRLOCK_SERVER: t.service.url, AIRLOCK_HOME: home.dir, AIRLOCK_TOKEN: t.service.adminToken! };
  const r = await t.api<{ id: number }>("POST", "/api/v1/repositories", {
    name: "acme/app",
    cloneUrl: "https://git.example.test/acme/app.git",
  });
  assert.equal(r.status, 201, r.text);
  const org = await t.db.pool.query<{ id: string }>("SELECT id FROM organizations WHERE name = 'default'");
  scope = repositoryScope(Number(org.rows[0]!.id), r.body.id);
});
after(async () => {
  await t?.stop();
  home?.remove();
});

const read = (name: string, s: Scope = scope): Promise<string> =>
  readSecret(t.db.pool, t.service.kms, s, name);

describe("airlock secrets", () => {
  it("set reads the value from standard input (one trailing newline dropped), never prints it", async () => {
    const r = await runCli(["secrets", "set", "deploy_key", "--repo", "acme/app"], env, {
      stdin: "s3cret-from-stdin\n",
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Secret DEPLOY_KEY of repository \d+ set \(version 1\)\.\n$/);
    assert.equal(await read("DEPLOY_KEY"), "s3cret-from-stdin");
    const pem = "-----BEGIN KEY-----\nabc\n-----END KEY-----\n";
    assert.equal(
      (await runCli(["secrets", "set", "PEM", "--repo", "acme/app"], env, { stdin: pem })).code,
      0,
    );
    assert.equal(await read("PEM"), pem, "a multi-line value is kept as it is");
  });

  it("set asks without echo on a terminal", async () => {
    const asked: Array<[string, boolean]> = [];
    const r = await runCli(["secrets", "set", "TYPED", "--org", "default"], env, {
      prompt: (q, hidden) => {
        asked.push([q, hidden]);
        return Promise.resolve("typed-value");
      },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(asked, [["Value of TYPED (not shown): ", true]]);
    assert.equal(await read("TYPED", { ...scope, repositoryId: null }), "typed-value");
  });

  it("refuses a value on the command line, a bad name, and a place that is not one", async () => {
    const argv = await runCli(["secrets", "set", "LEAKY", "on-the-command-line", "--repo", "acme/app"], env);
    assert.equal(argv.code, 2);
    assert.match(argv.stderr, /not taken from the command line/);
    assert.ok(!argv.stderr.includes("on-the-command-line"));
    await assert.rejects(read("LEAKY"), /not found/);
    const bad = await runCli(["secrets", "set", "1-bad", "--repo", "acme/app"], env, { stdin: "v" });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^airlock: secret name "1-bad": only letters.*must not start with a digit\n$/);
    const short = await runCli(["secrets", "set", "PIN", "--repo", "acme/app"], env, { stdin: "4711\n" });
    assert.equal(short.code, 1);
    assert.match(short.stderr, /^airlock: secret PIN is shorter than 8 characters[^\n]*\n$/);
    assert.ok(!short.stderr.includes("4711"));
    await assert.rejects(read("PIN"), /not found/);
    assert.equal((await runCli(["secrets", "list"], env)).code, 2);
    assert.equal((await runCli(["secrets", "list", "--org", "default", "--env", "x"], env)).code, 2);
  });

  it("list shows names, versions and who changed them, never values; remove deletes", async () => {
    await runCli(["secrets", "set", "DEPLOY_KEY", "--repo", "acme/app"], env, { stdin: "second-value" });
    const list = await runCli(["secrets", "list", "--repo", "acme/app"], env);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^NAME +VERSION +UPDATED +BY\nDEPLOY_KEY +2 +\S+ \S+ +admin\nPEM +1 /);
    assert.ok(!list.stdout.includes("second") && !list.stdout.includes("BEGIN KEY"));
    const json = await runCli(["secrets", "list", "--repo", "acme/app", "--json"], env);
    assert.ok(!json.stdout.includes("second"));
    assert.equal((await runCli(["secrets", "remove", "pem", "--repo", "acme/app"], env)).code, 0);
    assert.equal((await runCli(["secrets", "remove", "PEM", "--repo", "acme/app"], env)).code, 1);
    const env2 = await runCli(
      ["secrets", "set", "ENV_ONLY", "--repo", "acme/app", "--env", "Production"],
      env,
      {
        stdin: "env-value-e",
      },
    );
    assert.match(env2.stdout, /of environment Production of repository/);
    assert.equal(await read("ENV_ONLY", { ...scope, environment: "production" }), "env-value-e");
  });
});

describe("airlock vars", () => {
  it("sets from the argument or standard input, lists values, removes", async () => {
    assert.equal((await runCli(["vars", "set", "region", "eu-west-1", "--repo", "acme/app"], env)).code, 0);
    assert.equal(
      (await runCli(["vars", "set", "TIER", "--org", "default"], env, { stdin: "gold\n" })).code,
      0,
    );
    const list = await runCli(["vars", "list", "--repo", "acme/app"], env);
    assert.match(list.stdout, /REGION +eu-west-1/);
    assert.match((await runCli(["vars", "list", "--org", "default"], env)).stdout, /TIER +gold/);
    assert.equal((await runCli(["vars", "remove", "REGION", "--repo", "acme/app"], env)).code, 0);
    assert.equal((await runCli(["vars", "list", "--repo", "acme/app"], env)).stdout, "No variables.\n");
  });
});

describe("airlock secrets rotate", () => {
  const rotate = async (...args: string[]): Promise<string> => {
    let out = "";
    const program = new Command().name("airlock").exitOverride();
    registerSecretsAdmin(program, {
      stdout: { write: (c) => (out += String(c)) },
      env: { AIRLOCK_DATABASE_URL: t.db.url, AIRLOCK_DATA_DIR: t.service.config.dataDir },
    });
    await program.parseAsync(["node", "airlock", "secrets", "rotate", ...args]);
    return out;
  };

  it("re-wraps the organization keys under a new KMS key while the server keeps reading secrets", async () => {
    const before = JSON.stringify((await t.db.pool.query("SELECT * FROM secrets ORDER BY id")).rows);
    const out = await rotate();
    assert.match(out, /^KMS key local-2-[0-9a-f]{8} is now current \(was local-1-[0-9a-f]{8}\)\.\n/);
    assert.match(out, /Re-wrapped 1 organization key\(s\) \(0 already under it\); 3 secret\(s\) untouched\./);
    assert.match(out, /Kept older KMS key\(s\): local-1-/);
    assert.equal(JSON.stringify((await t.db.pool.query("SELECT * FROM secrets ORDER BY id")).rows), before);
    // The running server (its own KMS instance) reads through the new key, and sets new values.
    assert.equal(await read("DEPLOY_KEY"), "second-value");
    const set = await runCli(["secrets", "set", "AFTER", "--repo", "acme/app"], env, {
      stdin: "after-value",
    });
    assert.equal(set.code, 0, set.stderr);
    const audit = await t.db.pool.query("SELECT details FROM audit_log WHERE action = 'kms.rotated'");
    assert.equal(audit.rows[0].details.rewrapped, 1);
  });

  it("--retire destroys the KMS keys nothing is wrapped under; secrets still decrypt", async () => {
    const out = await rotate("--retire");
    assert.match(out, /Retired KMS key\(s\): local-1-[0-9a-f]{8}, local-2-[0-9a-f]{8}\./);
    const file = await readFile(join(t.service.config.dataDir, "kms.key"), "utf8");
    assert.equal(file.split("\n").filter((l) => l.startsWith("local-")).length, 1);
    assert.equal(await read("AFTER"), "after-value");
    assert.equal(await read("DEPLOY_KEY"), "second-value");
  });
});
