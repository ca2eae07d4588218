// `airlock repos set-credential|credentials|remove-credential` and `airlock orgs delete` against the
// real service: values come from a file or standard input, never argv, and are never printed;
// mistakes get one line; deleting an organization needs --yes.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gitAuthOf, forgeTokenOf } from "../../src/secrets/index.js";
import { startTestService, type TestService } from "../helpers/service.js";
import { runCli, tempHome } from "./harness.js";

const VALUE = "cli-secret-8d1f77a0e2";
let t: TestService;
let home: ReturnType<typeof tempHome>;
let env: NodeJS.ProcessEnv;
let repo = 0;

before(async () => {
  t = await startTestService();
  home = tempHome();
  env = { AIRLOCK_SERVER: t.service.url, AIRLOCK_HOME: home.dir, AIRLOCK_TOKEN: t.service.adminToken! };
  assert.equal((await t.api("POST", "/api/v1/organizations", { name: "acme" })).status, 201);
  const r = await t.api<{ id: number }>("POST", "/api/v1/repositories", {
    name: "acme/app",
    cloneUrl: "https://git.example.test/acme/app.git",
    organization: "acme",
  });
  repo = r.body.id;
});
after(async () => {
  await t?.stop();
  home?.remove();
});

describe("airlock repos set-credential", () => {
  it("reads a clone password from standard input and a forge token from a file; lists kinds only", async () => {
    const pw = await runCli(
      ["repos", "set-credential", "acme/app", "--clone-password-file", "-", "--username", "ci"],
      env,
      { stdin: `${VALUE}\n` },
    );
    assert.equal(pw.code, 0, pw.stderr);
    assert.equal(pw.stdout, "The clone-password of acme/app is set.\n");
    const auth = await gitAuthOf(t.db.pool, t.service.kms, repo, "https://git.example.test/acme/app.git");
    assert.deepEqual(auth, { kind: "basic", username: "ci", password: VALUE });
    const file = join(home.dir, "token");
    writeFileSync(file, `${VALUE}-token\n`, { mode: 0o600 });
    assert.equal(
      (await runCli(["repos", "set-credential", "acme/app", "--forge-token-file", file], env)).code,
      0,
    );
    assert.equal(await forgeTokenOf(t.db.pool, t.service.kms, repo), `${VALUE}-token`);
    const list = await runCli(["repos", "credentials", "acme/app"], env);
    assert.match(list.stdout, /^KIND +SET +BY\nclone-password +\S+ \S+ +admin\nforge-token /);
    const json = await runCli(["repos", "credentials", "acme/app", "--json"], env);
    for (const out of [list.stdout, json.stdout, pw.stdout]) assert.ok(!out.includes(VALUE));
  });

  it("refuses mistakes in one line: no kind, two kinds, a bad key, an unknown kind to remove", async () => {
    for (const [args, pattern] of [
      [[], /give one of --clone-password-file/],
      [["--forge-token-file", "-", "--clone-password-file", "-"], /give one of/],
      [["--forge-token-file", "-", "--username", "x"], /--username goes with --clone-password-file/],
    ] as const) {
      const r = await runCli(["repos", "set-credential", "acme/app", ...args], env, { stdin: VALUE });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, new RegExp(`^airlock: [^\\n]*${pattern.source}[^\\n]*\\n$`));
    }
    const bad = await runCli(["repos", "set-credential", "acme/app", "--deploy-key-file", "-"], env, {
      stdin: VALUE,
    });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^airlock: the deploy key is not a private key[^\n]*\n$/);
    assert.ok(!bad.stderr.includes(VALUE));
    const unknown = await runCli(["repos", "remove-credential", "acme/app", "webhook-secret"], env);
    assert.match(unknown.stderr, /^airlock: unknown credential kind webhook-secret[^\n]*\n$/);
  });

  it("removes a credential", async () => {
    const r = await runCli(["repos", "remove-credential", "acme/app", "forge-token"], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await forgeTokenOf(t.db.pool, t.service.kms, repo), undefined);
  });
});

describe("airlock orgs delete", () => {
  it("needs --yes, then deletes the organization", async () => {
    const no = await runCli(["orgs", "delete", "acme"], env);
    assert.notEqual(no.code, 0);
    assert.match(no.stderr, /^airlock: deleting organization acme [^\n]*add --yes to confirm\n$/);
    assert.equal((await t.api("GET", "/api/v1/organizations/acme")).status, 200);
    const yes = await runCli(["orgs", "delete", "acme", "--yes"], env);
    assert.equal(yes.code, 0, yes.stderr);
    assert.equal(yes.stdout, "Organization acme deleted (its data key destroyed).\n");
    assert.equal((await t.api("GET", "/api/v1/organizations/acme")).status, 404);
    const again = await runCli(["orgs", "delete", "acme", "--yes"], env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^airlock: [^\n]*not found\n$/);
  });
});
