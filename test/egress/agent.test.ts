// The agent path end to end: the real orchestrator (its own database), a node agent on real
// sandboxes with a node allow-list, and a repository allow-list set over the REST API. The
// assignment carries the repository's list, the agent enforces node ∪ repository, and the
// decisions show in the job's log served by the API. Another repository gets the node's list
// only. The API refuses bad lists, naming every problem.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { nodeEgress } from "../../src/egress/index.js";
import { makeRepo, runAirlock, type TempRepo } from "../helpers/repo.js";
import { startTestService, type TestService } from "../helpers/service.js";
import { canRunNetns, startInternet, type Internet } from "./internet.js";

const skip = canRunNetns ? false : "needs root and iproute2 (network namespaces)";
let net: Internet;
let t: TestService;
let machinesDir: string;
const repos: TempRepo[] = [];

const workflow = `on: push
jobs:
  net:
    runs-on: ubuntu-latest
    steps:
      - run: curl -sS --fail http://www.test.example/
      - run: |
          if curl -sS --fail --max-time 10 --cacert ca.pem https://www.test.example/; then echo "HTTPS-$((40+2))"; fi
          if curl -sS --fail --max-time 10 http://other.test.example/; then echo "OTHER-$((40+2))"; fi
          echo done
`;

before(async () => {
  if (skip) return;
  net = await startInternet("198.51.100.64", {
    "www.test.example": ["SERVER"],
    "other.test.example": ["SERVER"],
  });
  machinesDir = await mkdtemp(path.join(os.tmpdir(), "airlock-egress-agent-"));
  t = await startTestService();
  const egress = nodeEgress(
    { allow: ["www.test.example:80"], deny: [], dns: [net.dns.address] },
    machinesDir,
  );
  await t.startAgent(await t.addNode("node-egress"), { egress });
});
after(async () => {
  await t?.stop();
  await net?.stop();
  repos.forEach((r) => r.remove());
  if (machinesDir) await rm(machinesDir, { recursive: true, force: true });
});

async function addRepo(name: string): Promise<number> {
  const r = makeRepo({ ".github/workflows/ci.yml": workflow, "ca.pem": readFileSync(net.caFile, "utf8") });
  repos.push(r);
  const res = await t.api<{ id: number }>("POST", "/api/v1/repositories", { name, cloneUrl: r.dir });
  assert.equal(res.status, 201, res.text);
  return res.body.id;
}

async function runLog(repoId: number): Promise<string> {
  const trig = await t.api<{ runs: Array<{ id: number }> }>(
    "POST",
    `/api/v1/repositories/${repoId}/runs`,
    {},
  );
  assert.equal(trig.status, 201, trig.text);
  const run = await t.waitRun(trig.body.runs[0]!.id, 90_000);
  const log = await t.api("GET", `/api/v1/jobs/${run.jobs[0]!.id}/logs`);
  assert.equal(log.status, 200);
  assert.equal(run.conclusion, "success", log.text);
  return log.text;
}

void test("the repository's list is set over the API, validated, and shown", { skip }, async () => {
  const id = await addRepo("acme/egress-api");
  const bad = await t.api<{ error: { code: string; details?: unknown } }>(
    "PUT",
    `/api/v1/repositories/${id}/egress`,
    {
      allow: ["169.254.169.254:80", "nope", "ok.example:443"],
    },
  );
  assert.equal(bad.status, 400, bad.text);
  assert.match(bad.text, /169\.254\.169\.254:80/);
  assert.match(bad.text, /nope/);
  const ok = await t.api<{ egressAllow: string[] }>("PUT", `/api/v1/repositories/${id}/egress`, {
    allow: ["*.Test.Example:443", "www.test.example:443"],
  });
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual(ok.body.egressAllow, ["*.test.example:443", "www.test.example:443"]);
  const shown = await t.api<{ egressAllow: string[] }>("GET", `/api/v1/repositories/${id}`);
  assert.deepEqual(shown.body.egressAllow, ["*.test.example:443", "www.test.example:443"]);
  const cleared = await t.api<{ egressAllow: string[] }>("PUT", `/api/v1/repositories/${id}/egress`, {
    allow: [],
  });
  assert.deepEqual(cleared.body.egressAllow, []);
  const missing = await t.api("PUT", `/api/v1/repositories/999999/egress`, { allow: [] });
  assert.equal(missing.status, 404);
  const extra = await t.api("PUT", `/api/v1/repositories/${id}/egress`, { allow: [], open: true });
  assert.equal(extra.status, 400);
});

void test("a job gets node ∪ repository; another repository the node's list only", { skip }, async () => {
  const withList = await addRepo("acme/egress-wide");
  const put = await t.api("PUT", `/api/v1/repositories/${withList}/egress`, {
    allow: ["www.test.example:443"],
  });
  assert.equal(put.status, 200, put.text);
  const ip = net.serverIp.replace(/\./g, "\\.");

  const wide = await runLog(withList);
  assert.match(wide, /hello from www\.test\.example/);
  assert.match(wide, new RegExp(`egress: allowed GET www\\.test\\.example:80 → ${ip}`));
  assert.match(wide, new RegExp(`egress: allowed CONNECT www\\.test\\.example:443 → ${ip}`));
  assert.match(wide, /HTTPS-42/);
  assert.doesNotMatch(wide, /OTHER-42/);
  assert.match(wide, /egress: refused GET other\.test\.example:80 \(not on the allow-list\)/);

  const narrow = await runLog(await addRepo("acme/egress-narrow"));
  assert.match(narrow, new RegExp(`egress: allowed GET www\\.test\\.example:80 → ${ip}`));
  assert.match(narrow, /egress: refused CONNECT www\.test\.example:443 \(not on the allow-list\)/);
  assert.doesNotMatch(narrow, /HTTPS-42|OTHER-42/);
  assert.match(narrow, /done/);
});

void test(
  "airlock repos egress shows, sets and clears the list; bad entries are refused",
  { skip },
  async () => {
    await addRepo("acme/egress-cli");
    const env = { AIRLOCK_SERVER: t.service.url, AIRLOCK_TOKEN: t.service.adminToken! };
    const cwd = os.tmpdir();
    const set = await runAirlock(
      cwd,
      [
        "repos",
        "egress",
        "acme/egress-cli",
        "--allow",
        "pkg.example.org:443",
        "--allow",
        "*.example.net:443",
      ],
      env,
    );
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /may reach:\n {2}pkg\.example\.org:443\n {2}\*\.example\.net:443\n/);
    const shown = await runAirlock(cwd, ["repos", "egress", "acme/egress-cli", "--json"], env);
    assert.deepEqual((JSON.parse(shown.stdout) as { egressAllow: string[] }).egressAllow, [
      "pkg.example.org:443",
      "*.example.net:443",
    ]);
    const bad = await runAirlock(cwd, ["repos", "egress", "acme/egress-cli", "--allow", "10.0.0.1:22"], env);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /10\.0\.0\.1:22/);
    const none = await runAirlock(cwd, ["repos", "egress", "acme/egress-cli", "--none"], env);
    assert.equal(none.code, 0, none.stderr);
    assert.match(none.stdout, /no egress of its own/);
  },
);
