// `airlock orgs rotate-id-token-key`: a new key signs the organization's job identity tokens; the
// organization's key set publishes it at once, keeps the earlier one (its tokens may still be
// valid), and a user without the admin role of the organization is refused in one line.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createUser } from "../../src/auth/index.js";
import { startTestService, type TestService } from "../helpers/service.js";
import { runCli, tempHome } from "./harness.js";

let t: TestService;
let home: ReturnType<typeof tempHome>;
const env = (): NodeJS.ProcessEnv => ({ AIRLOCK_SERVER: t.service.url, AIRLOCK_HOME: home.dir });

before(async () => {
  t = await startTestService();
  home = tempHome();
});
after(async () => {
  await t?.stop();
  home?.remove();
});

async function kids(): Promise<string[]> {
  const res = await fetch(`${t.service.url}/orgs/default/.well-known/jwks.json`);
  assert.equal(res.status, 200);
  return ((await res.json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid).sort();
}

describe("airlock orgs rotate-id-token-key", () => {
  it("publishes the new key and keeps the old one", async () => {
    const admin = { ...env(), AIRLOCK_TOKEN: t.service.adminToken! };
    const first = await runCli(["orgs", "rotate-id-token-key", "default", "--json"], admin);
    assert.equal(first.code, 0, first.stderr);
    const a = (JSON.parse(first.stdout) as { kid: string }).kid;
    const second = await runCli(["orgs", "rotate-id-token-key", "default"], admin);
    assert.equal(second.code, 0, second.stderr);
    const b = /signed with key (\S+)\.\n$/.exec(second.stdout)?.[1];
    assert.ok(b && b !== a, second.stdout);
    const published = await kids();
    assert.ok(published.includes(b), "the new key is published");
    // The first key signed nothing, so it may go once retired an hour ago; it has not been an hour.
    assert.ok(published.includes(a), "the earlier key is still published");
  });

  it("refuses a user who is not an administrator of the organization", async () => {
    await createUser(t.db.pool, { name: "rin", password: "rin's long password" });
    const login = await runCli(["login", "--user", "rin", "--password-stdin"], env(), {
      stdin: "rin's long password\n",
    });
    assert.equal(login.code, 0, login.stderr);
    const r = await runCli(["orgs", "rotate-id-token-key", "default"], env());
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^airlock: .+\n$/);
    assert.ok(!r.stderr.includes("    at "), "no stack trace");
  });
});
