// Deploy pools (migration 040) through the API and `airlock pools`, against a real server and
// database: only a high-trust pool can be one (a low-trust one is refused in one line, POOL_INVALID,
// and nothing changes — the table's CHECK holds it for any other writer too); the flag is shown,
// toggled, and every change is in the audit log.
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { startTestServer, type TestServer } from "../server/helpers.js";
import { runCli, stubEnv, tempHome } from "./harness.js";

let s: TestServer;
let env: NodeJS.ProcessEnv;
const home = tempHome();

before(async () => {
  s = await startTestServer();
  await s.app.listen({ host: "127.0.0.1", port: 0 });
  env = stubEnv(`http://127.0.0.1:${(s.app.server.address() as AddressInfo).port}`, home.dir, s.admin);
});
after(async () => {
  await s?.close();
  home.remove();
});

interface Pool {
  name: string;
  trust: string;
  deploy: boolean;
}

async function call(method: "GET" | "POST" | "PUT", url: string, payload?: unknown) {
  const r = await s.app.inject({
    method,
    url,
    headers: s.auth,
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });
  return { status: r.statusCode, body: JSON.parse(r.body) as unknown };
}

const pools = async (): Promise<Map<string, Pool>> =>
  new Map(((await call("GET", "/api/v1/pools")).body as Pool[]).map((p) => [p.name, p]));

const refusal = (r: { body: unknown }) => (r.body as { error: { code: string; message: string } }).error;

async function deployAudit(): Promise<Array<{ details: { name: string; deploy: boolean } }>> {
  const r = await call("GET", "/api/v1/audit?action=pool.deploy_set");
  assert.equal(r.status, 200);
  return r.body as Array<{ details: { name: string; deploy: boolean } }>;
}

describe("deploy pools", () => {
  it("the API refuses a low-trust deploy pool, shows and toggles the flag, and audits it", async () => {
    const low = await call("POST", "/api/v1/pools", { name: "forks", trust: "low", deploy: true });
    assert.equal(low.status, 400);
    assert.equal(refusal(low).code, "POOL_INVALID");
    assert.equal(
      refusal(low).message,
      "pool forks is low-trust and cannot be a deploy pool (only high-trust pools can)",
    );
    assert.ok(!(await pools()).has("forks"), "nothing was made");

    assert.equal((await call("POST", "/api/v1/pools", { name: "forks", trust: "low" })).status, 201);
    const made = await call("POST", "/api/v1/pools", { name: "prod", trust: "high", deploy: true });
    assert.equal(made.status, 201);
    assert.equal((made.body as Pool).deploy, true);
    let all = await pools();
    assert.deepEqual(
      ["default", "forks", "prod"].map((n) => all.get(n)?.deploy),
      [false, false, true],
    );

    const before = (await deployAudit()).length;
    const lowSet = await call("PUT", "/api/v1/pools/forks/deploy", { deploy: true });
    assert.equal(lowSet.status, 400);
    assert.equal(refusal(lowSet).code, "POOL_INVALID");
    assert.equal((await pools()).get("forks")?.deploy, false);
    // Not even a direct write makes a low-trust deploy pool.
    await assert.rejects(
      s.db.pool.query(`UPDATE pools SET deploy = true WHERE name = 'forks'`),
      /pools_deploy_high_trust/,
    );
    assert.equal((await call("PUT", "/api/v1/pools/nope/deploy", { deploy: true })).status, 404);
    assert.equal((await call("PUT", "/api/v1/pools/prod/deploy", {})).status, 400);
    assert.equal((await deployAudit()).length, before, "refusals change nothing and record no change");

    const off = await call("PUT", "/api/v1/pools/prod/deploy", { deploy: false });
    assert.equal(off.status, 200);
    assert.equal((off.body as Pool).deploy, false);
    // Turning a low-trust pool's flag off is no contradiction.
    assert.equal((await call("PUT", "/api/v1/pools/forks/deploy", { deploy: false })).status, 200);
    all = await pools();
    assert.deepEqual([all.get("prod")?.deploy, all.get("forks")?.deploy], [false, false]);
    const audit = await deployAudit();
    assert.deepEqual(
      audit.slice(0, audit.length - before).map((e) => e.details),
      [
        { name: "forks", deploy: false },
        { name: "prod", deploy: false },
      ],
    );
  });

  it("airlock pools add --deploy, update --deploy/--no-deploy and list; mistakes in one line", async () => {
    const ok = async (args: string[]): Promise<string> => {
      const r = await runCli(args, env);
      assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
      return r.stdout;
    };
    const refused = async (args: string[], code: number, message: RegExp): Promise<void> => {
      const r = await runCli(args, env);
      assert.equal(r.code, code, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.split("\n").filter(Boolean).length, 1, `one line: ${r.stderr}`);
    };
    assert.equal(
      await ok(["pools", "add", "ship", "--trust", "high", "--deploy"]),
      "Pool ship added (high trust, deploy).\n",
    );
    await refused(
      ["pools", "add", "forks2", "--trust", "low", "--deploy"],
      1,
      /^airlock: pool forks2 is low-trust and cannot be a deploy pool/,
    );
    const list = await ok(["pools", "list"]);
    assert.match(list, /NAME\s+TRUST\s+GROUP\s+OPEN\s+DEPLOY\s+NODES/);
    assert.match(list, /ship\s+high\s+-\s+no\s+yes\s+0/);
    assert.match(list, /default\s+high\s+-\s+yes\s+no\s+0/);
    assert.ok(!list.includes("forks2"), "nothing was added by a refused command");

    assert.equal(await ok(["pools", "update", "ship", "--no-deploy"]), "Pool ship is not a deploy pool.\n");
    assert.equal(await ok(["pools", "update", "ship", "--deploy"]), "Pool ship is a deploy pool.\n");
    assert.equal(
      JSON.parse(await ok(["pools", "update", "ship", "--deploy", "--json"])).deploy as boolean,
      true,
    );
    await refused(["pools", "update", "ship"], 2, /^airlock: say what to change: --deploy or --no-deploy\n$/);
    await ok(["pools", "add", "forks3", "--trust", "low"]);
    await refused(["pools", "update", "forks3", "--deploy"], 1, /^airlock: pool forks3 is low-trust/);
    await refused(["pools", "update", "nope", "--deploy"], 1, /^airlock: .*nope/);
    const after = await pools();
    assert.deepEqual([after.get("ship")?.deploy, after.get("forks3")?.deploy], [true, false]);
  });
});
