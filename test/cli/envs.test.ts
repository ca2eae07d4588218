// `airlock envs list|set|remove` and `airlock runs deployments|approve|reject` against the real
// service: rules set from options (every mistake in one line, exit code 2 for the user's own),
// a waiting run reviewed from the command line, and self-approval refused with the server's reason.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createApiToken, createUser, setGrant } from "../../src/auth/index.js";
import { makeRepo, type TempRepo } from "../helpers/repo.js";
import { eventually, startTestService, type TestService } from "../helpers/service.js";
import { runCli, tempHome } from "./harness.js";

let t: TestService;
let home: ReturnType<typeof tempHome>;
let env: NodeJS.ProcessEnv;
let bobEnv: NodeJS.ProcessEnv;
let repo: TempRepo;
let repoId = 0;

before(async () => {
  t = await startTestService();
  home = tempHome();
  env = { AIRLOCK_SERVER: t.service.url, AIRLOCK_HOME: home.dir, AIRLOCK_TOKEN: t.service.adminToken! };
  repo = makeRepo({
    ".github/workflows/d.yml":
      "on: push\njobs:\n  ship:\n    runs-on: x\n    environment: production\n    steps:\n      - run: echo hi\n",
  });
  const r = await t.api<{ id: number }>("POST", "/api/v1/repositories", {
    name: "acme/app",
    cloneUrl: repo.dir,
  });
  assert.equal(r.status, 201, r.text);
  repoId = r.body.id;
  const org = await t.db.pool.query<{ id: string }>("SELECT id FROM organizations WHERE name = 'default'");
  const bob = await createUser(t.db.pool, { name: "bob" });
  await setGrant(t.db.pool, {
    userId: bob.id,
    organizationId: Number(org.rows[0]!.id),
    repositoryId: repoId,
    role: "viewer",
  });
  const token = (
    await createApiToken(t.db.pool, { kind: "personal", name: "t", scopes: ["admin"], userId: bob.id })
  ).token;
  bobEnv = { ...env, AIRLOCK_TOKEN: token };
});
after(async () => {
  await t?.stop();
  home?.remove();
  repo?.remove();
});

describe("airlock envs", () => {
  it("set, list and remove an environment's rules", async () => {
    const set = await runCli(
      [
        "envs",
        "set",
        "acme/app",
        "Production",
        "--reviewer",
        "bob",
        "--reviewer-role",
        "maintainer",
        "--branch",
        "main",
        "--wait-timer",
        "0",
      ],
      env,
    );
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.stdout, "Environment production of acme/app set.\n");
    const list = await runCli(["envs", "list", "acme/app"], env);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /production\s+bob\s+maintainer\s+main/);
    const bad = await runCli(
      ["envs", "set", "acme/app", "production", "--reviewer-role", "boss", "--wait-timer", "x"],
      env,
    );
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--reviewer-role expects .*; --wait-timer expects/);
    const server = await runCli(
      ["envs", "set", "acme/app", "production", "--reviewer", "nobody-at-all"],
      env,
    );
    assert.notEqual(server.code, 0);
    assert.match(server.stderr, /no user named "nobody-at-all"/);
    await runCli(["envs", "set", "acme/app", "scratch"], env);
    const rm = await runCli(["envs", "remove", "acme/app", "scratch"], env);
    assert.equal(rm.code, 0, rm.stderr);
  });

  it("runs approve: refused to the user who triggered the run, accepted from a reviewer", async () => {
    const trig = await t.api<{ runs: Array<{ id: number }> }>(
      "POST",
      `/api/v1/repositories/${repoId}/runs`,
      {},
    );
    assert.equal(trig.status, 201, trig.text);
    const runId = trig.body.runs[0]!.id;
    await eventually(async () => {
      const d = await t.api<unknown[]>("GET", `/api/v1/runs/${runId}/deployments`);
      return d.body.length > 0 || undefined;
    }, "the deployment waiting");
    const shown = await runCli(["runs", "deployments", String(runId)], env);
    assert.match(shown.stdout, /production\s+waiting\s+-\s+bob or a maintainer \(or higher\) of acme\/app/);
    const self = await runCli(["runs", "approve", String(runId)], env);
    assert.notEqual(self.code, 0);
    assert.match(
      self.stderr,
      /admin triggered this run and cannot approve or reject its deployment to production/,
    );
    assert.equal(self.stderr.trim().split("\n").length, 1);
    const ok = await runCli(
      ["runs", "approve", String(runId), "--env", "production", "--comment", "go"],
      bobEnv,
    );
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, `Run ${runId}: deployment to production approved (ship).\n`);
  });
});
