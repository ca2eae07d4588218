// The CLI of pools, authorizations and node labels against the real service: what an
// administrator types, what it prints, and a one-line refusal for every mistake (no stack trace,
// nothing changed).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startTestService, type TestService } from "../helpers/service.js";
import { runCli, tempHome } from "./harness.js";

let t: TestService;
let home: ReturnType<typeof tempHome>;
let admin: NodeJS.ProcessEnv;

before(async () => {
  t = await startTestService();
  home = tempHome();
  admin = { AIRLOCK_SERVER: t.service.url, AIRLOCK_HOME: home.dir, AIRLOCK_TOKEN: t.service.adminToken! };
  const r = await t.api("POST", "/api/v1/repositories", {
    name: "default/app",
    cloneUrl: "https://git.example.test/app.git",
  });
  assert.equal(r.status, 201, r.text);
});
after(async () => {
  await t?.stop();
  home?.remove();
});

async function ok(args: string[]): Promise<string> {
  const r = await runCli(args, admin);
  assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

async function refused(args: string[], message: RegExp): Promise<void> {
  const r = await runCli(args, admin);
  // 2 for a mistake in the command, 1 for a refusal by the server.
  assert.ok(r.code === 1 || r.code === 2, `${args.join(" ")} should fail: ${r.code} ${r.stdout}`);
  assert.match(r.stderr, message);
  assert.equal(r.stderr.split("\n").filter(Boolean).length, 1, `one line: ${r.stderr}`);
  assert.ok(!r.stderr.includes("    at "), "no stack trace");
}

describe("airlock pools, authorizations and node labels", () => {
  it("adds pools, groups them, and refuses mistakes in one line", async () => {
    assert.equal(await ok(["pools", "add", "forks", "--trust", "low"]), "Pool forks added (low trust).\n");
    assert.equal(
      await ok(["pools", "add", "gpu-a", "--trust", "high", "--group", "gpu"]),
      "Pool gpu-a added (high trust).\n",
    );
    assert.equal(
      await ok(["pools", "set-group", "forks", "untrusted"]),
      "Pool forks is in group untrusted.\n",
    );
    const list = await ok(["pools", "list"]);
    assert.match(list, /forks\s+low\s+untrusted\s+no\s+no\s+0/);
    assert.match(list, /default\s+high\s+-\s+yes/);
    await refused(["pools", "add", "bad", "--trust", "medium"], /^airlock: .*trust/);
    await refused(["pools", "add", "forks", "--trust", "low"], /^airlock: .*forks/);
    await refused(["pools", "set-group", "nope", "x"], /^airlock: .*nope/);
    assert.ok(!(await ok(["pools", "list"])).includes("bad"), "nothing was added by a refused command");
  });

  it("grants, lists and revokes authorizations", async () => {
    const granted = await ok(["authorizations", "grant", "default/app", "--group", "gpu"]);
    const id = /^Authorization (\d+): default\/app may use group gpu\.\n$/.exec(granted)?.[1];
    assert.ok(id, granted);
    assert.match(
      await ok(["authorizations", "list", "--repo", "default/app"]),
      /default\/app\s+group gpu\s+approved/,
    );
    assert.equal(
      await ok(["authorizations", "revoke", id, "--cancel-running"]),
      `Authorization ${id} revoked.\n`,
    );
    assert.match(await ok(["authorizations", "list", "--state", "revoked"]), /group gpu\s+revoked/);
    await refused(["authorizations", "grant", "default/app"], /^airlock: /);
    await refused(["authorizations", "approve", "99999"], /^airlock: /);
  });

  it("sets a node's labels and pool; the agent's own claims add nothing", async () => {
    await t.startAgent(await t.addNode("n-cli"), { fake: true, labels: ["gpu-prod"] });
    assert.equal(
      await ok(["nodes", "set-labels", "n-cli", "--label", "linux-big", "--label", "fast"]).then((s) =>
        s.includes("n-cli") ? "ok" : s,
      ),
      "ok",
    );
    await ok(["nodes", "set-pool", "n-cli", "forks"]);
    const nodes = (
      await t.api<Array<{ name: string; labels: string[]; pool: string }>>("GET", "/api/v1/nodes")
    ).body;
    const n = nodes.find((x) => x.name === "n-cli");
    assert.deepEqual(
      [...(n?.labels ?? [])].sort(),
      ["fast", "linux-big"],
      "the agent's claimed gpu-prod is not there",
    );
    assert.equal(n?.pool, "forks");
    await refused(["nodes", "set-pool", "n-cli", "no-such-pool"], /^airlock: .*no-such-pool/);
  });
});
