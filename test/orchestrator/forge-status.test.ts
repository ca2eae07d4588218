// Results back to the forge, through the real service (PostgreSQL, the run drivers, a node agent):
// each run's commit status goes to a local fake of GitHub, GitLab, Gitea and Bitbucket that checks
// every call against the forge's documented API. Pending while queued/running, then success or
// failure with the run's link; nothing without a forge token; a forge answering 500 is retried
// and the run is unaffected; a late pending never overwrites the final status; a status is given
// up after the bound with its last error visible; no token in any log line, error or row.
// The outbox is driven explicitly (sendForgeStatuses; the timer is off): no sleeps.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import { makeRepo, type TempRepo } from "../helpers/repo.js";
import { runCli, stubEnv, tempHome } from "../cli/harness.js";
import { addRepository, eventually, startTestService, type TestService } from "../helpers/service.js";
import { startStatusForge, type StatusForge, type StatusForgeKind } from "../helpers/status-forges.js";

const WORKFLOWS = {
  ".github/workflows/ci.yml":
    "name: CI\non: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo built\n",
  ".github/workflows/broken.yml":
    "name: Broken\non: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: exit 1\n",
};
// Its job waits for a node nobody has: the run stays running until it is cancelled.
const STUCK = {
  ".github/workflows/stuck.yml":
    "name: Stuck\non: push\njobs:\n  wait:\n    runs-on: [self-hosted, no-such-label]\n    steps:\n      - run: echo never\n",
};
const KINDS: StatusForgeKind[] = ["github", "gitlab", "gitea", "bitbucket"];
const token = (k: string): string => `tok-${k}-${randomBytes(12).toString("hex")}`;
const TOKENS: Record<string, string> = {
  "acme/github": token("github"),
  "acme/gitlab": token("gitlab"),
  "acme/gitea": token("gitea"),
  "acme/bitbucket": token("bitbucket"),
  "acme/stuck": token("stuck"),
  "acme/gitlab-stuck": token("gitlab-stuck"),
};
const ALL_TOKENS = Object.values(TOKENS);

const logLines: string[] = [];
let t: TestService;
let repo: TempRepo;
let stuckRepo: TempRepo;
let commit: string;
const forges = {} as Record<StatusForgeKind, StatusForge>;
const repoIds: Record<string, number> = {};

interface Summary {
  id: number;
  url: string;
  state: string;
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- free-form JSON, checked field by field
type Json = any;

async function addRepo(
  name: string,
  dir: string,
  kind: StatusForgeKind,
  withToken: boolean,
): Promise<number> {
  const id = await addRepository(t, name, dir);
  const forge = await t.api<Json>("PUT", `/api/v1/repositories/${id}/forge`, {
    kind,
    apiUrl: forges[kind].apiUrl,
  });
  assert.equal(forge.status, 200, forge.text);
  assert.deepEqual(forge.body.resolved, { kind, apiUrl: forges[kind].apiUrl, path: name });
  assert.equal(forge.body.forgeToken, false);
  if (withToken) {
    const set = await t.api("PUT", `/api/v1/repositories/${id}/credentials/forge-token`, {
      value: TOKENS[name],
    });
    assert.equal(set.status, 200, set.text);
  }
  return id;
}

async function trigger(id: number): Promise<Summary[]> {
  const r = await t.api<{ runs: Summary[] }>("POST", `/api/v1/repositories/${id}/runs`, {});
  assert.equal(r.status, 201, r.text);
  return r.body.runs;
}

async function runState(id: number): Promise<Json> {
  return (await t.api<Json>("GET", `/api/v1/runs/${id}`)).body;
}

const waitRunning = (ids: number[]): Promise<true> =>
  eventually(async () => {
    for (const id of ids) if ((await runState(id)).state !== "running") return undefined;
    return true;
  }, "the runs to be running");

/** The calls a forge got since `from`, as [context, state] pairs sorted by context. */
const seen = (f: StatusForge, from: number): string[][] =>
  f.calls
    .slice(from)
    .map((c) => [c.context, c.state])
    .sort((a, b) => a[0]!.localeCompare(b[0]!));

before(async () => {
  for (const k of KINDS) {
    forges[k] = await startStatusForge(k, {
      [`acme/${k}`]: TOKENS[`acme/${k}`]!,
      ...(k === "github" ? { "acme/stuck": TOKENS["acme/stuck"]!, "acme/none": "never-sent" } : {}),
      ...(k === "gitlab" ? { "acme/gitlab-stuck": TOKENS["acme/gitlab-stuck"]! } : {}),
    });
  }
  const logger = pino({ level: "trace" }, { write: (s: string) => void logLines.push(s) });
  t = await startTestService(
    { forgeStatusIntervalMs: 0, forgeStatusRetryMs: 0, forgeStatusAttempts: 3 },
    { logger },
  );
  repo = makeRepo(WORKFLOWS);
  stuckRepo = makeRepo(STUCK);
  commit = execFileSync("git", ["rev-parse", "HEAD"], { cwd: repo.dir, encoding: "utf8" }).trim();
  for (const k of KINDS) repoIds[`acme/${k}`] = await addRepo(`acme/${k}`, repo.dir, k, true);
  repoIds["acme/none"] = await addRepo("acme/none", repo.dir, "github", false);
  repoIds["acme/stuck"] = await addRepo("acme/stuck", stuckRepo.dir, "github", true);
  repoIds["acme/gitlab-stuck"] = await addRepo("acme/gitlab-stuck", stuckRepo.dir, "gitlab", true);
});

after(async () => {
  await t?.stop();
  for (const f of Object.values(forges)) await f.close();
  repo?.remove();
  stuckRepo?.remove();
});

describe("commit statuses", () => {
  const runs: Record<string, Summary[]> = {};
  const expected: Record<StatusForgeKind, { pending: string; success: string; failure: string }> = {
    github: { pending: "pending", success: "success", failure: "failure" },
    gitlab: { pending: "running", success: "success", failure: "failed" },
    gitea: { pending: "pending", success: "success", failure: "failure" },
    bitbucket: { pending: "INPROGRESS", success: "SUCCESSFUL", failure: "FAILED" },
  };

  it("go pending while a run waits for a node, on every forge, each with the run's link", async () => {
    for (const name of ["acme/github", "acme/gitlab", "acme/gitea", "acme/bitbucket", "acme/none"])
      runs[name] = await trigger(repoIds[name]!);
    const all = Object.values(runs).flat();
    assert.equal(all.length, 10, "two workflows per repository");
    await waitRunning(all.map((r) => r.id));
    assert.equal(await t.service.orchestrator.sendForgeStatuses(), 8);
    for (const k of KINDS) {
      const f = forges[k];
      assert.deepEqual(f.violations, [], `${k}: ${f.violations.join("; ")}`);
      // The queued status was replaced by the running one before it was sent: one call each.
      assert.deepEqual(seen(f, 0), [
        ["airlock/Broken", expected[k].pending],
        ["airlock/CI", expected[k].pending],
      ]);
      const byContext = new Map(runs[`acme/${k}`]!.map((r) => [r.id, r.url]));
      for (const c of f.calls) {
        assert.equal(c.sha, commit);
        assert.equal(c.project, `acme/${k}`);
        assert.ok([...byContext.values()].includes(c.targetUrl), c.targetUrl);
        assert.ok(c.targetUrl.startsWith(`${t.service.config.publicUrl}/api/v1/runs/`), c.targetUrl);
        assert.match(c.description, /^Airlock run #\d+ is running$/);
      }
    }
    assert.equal(forges.gitlab.calls[0]!.body.ref, "main", "GitLab gets the branch");
  });

  it("end success or failure once the runs conclude; a repository without a token sends nothing", async () => {
    await t.startAgent(await t.addNode("node-1"), { fake: true });
    const sent = Object.fromEntries(KINDS.map((k) => [k, forges[k].calls.length]));
    for (const r of Object.values(runs).flat()) await t.waitRun(r.id);
    await t.service.orchestrator.sendForgeStatuses();
    for (const k of KINDS) {
      const f = forges[k];
      assert.deepEqual(f.violations, []);
      assert.deepEqual(seen(f, sent[k]!), [
        ["airlock/Broken", expected[k].failure],
        ["airlock/CI", expected[k].success],
      ]);
      for (const c of f.calls.slice(sent[k]))
        assert.match(c.description, /^Airlock run #\d+ (succeeded|failed)$/);
    }
    // Nothing at all for the repository without a forge token: no call, no queued row.
    assert.ok(forges.github.calls.every((c) => c.project !== "acme/none"));
    assert.ok(forges.github.raw.every((r) => !r.includes("acme/none")));
    const none = await t.db.pool.query("SELECT 1 FROM forge_statuses WHERE repository_id = $1", [
      repoIds["acme/none"],
    ]);
    assert.equal(none.rowCount, 0);
    const ci = runs["acme/github"]!.find((r) => r.url === forges.github.calls.at(-1)!.targetUrl)!;
    const view = await runState(ci.id);
    assert.equal(view.forgeStatus.delivery, "sent");
    assert.ok(["success", "failure"].includes(view.forgeStatus.phase));
    // Nothing else is due.
    assert.equal(await t.service.orchestrator.sendForgeStatuses(), 0);
  });

  it("a forge answering 500 is retried, and the run is not affected", async () => {
    const f = forges.github;
    f.failNext([500, 500]);
    const from = f.calls.length;
    const again = await trigger(repoIds["acme/github"]!);
    const done = await Promise.all(again.map((r) => t.waitRun(r.id)));
    assert.deepEqual(done.map((r) => r.conclusion).sort(), ["failure", "success"]);
    assert.equal(await t.service.orchestrator.sendForgeStatuses(), 2);
    assert.deepEqual(
      f.calls.slice(from).map((c) => c.answered),
      [500, 500],
    );
    for (const r of again) {
      const v = await runState(r.id);
      assert.equal(v.state, "completed");
      assert.equal(v.forgeStatus.delivery, "pending");
      assert.equal(v.forgeStatus.attempts, 1);
      assert.match(v.forgeStatus.lastError, /HTTP 500/);
    }
    assert.equal(await t.service.orchestrator.sendForgeStatuses(), 2);
    assert.deepEqual(
      f.calls.slice(from + 2).map((c) => c.answered),
      [201, 201],
    );
    assert.deepEqual(seen(f, from + 2), [
      ["airlock/Broken", "failure"],
      ["airlock/CI", "success"],
    ]);
    for (const r of again) {
      const v = await runState(r.id);
      assert.equal(v.forgeStatus.delivery, "sent");
      assert.equal(v.forgeStatus.attempts, 2);
    }
    assert.equal(await t.service.orchestrator.sendForgeStatuses(), 0);
    assert.deepEqual(f.violations, []);
  });

  it("a pending status that failed is never sent after the run's final one (cancelled: error)", async () => {
    const f = forges.github;
    const [run] = await trigger(repoIds["acme/stuck"]!);
    assert.ok(run);
    await waitRunning([run.id]);
    f.failNext([502]);
    const from = f.calls.length;
    assert.equal(await t.service.orchestrator.sendForgeStatuses(), 1);
    assert.deepEqual(
      f.calls.slice(from).map((c) => [c.state, c.answered]),
      [["pending", 502]],
    );
    // The pending status waits for its retry (due at once here); the run ends meanwhile.
    const cancel = await t.api("POST", `/api/v1/runs/${run.id}/cancel`);
    assert.ok(cancel.status < 300, cancel.text);
    await t.waitRun(run.id);
    assert.equal(await t.service.orchestrator.sendForgeStatuses(), 1);
    assert.equal(await t.service.orchestrator.sendForgeStatuses(), 0);
    assert.deepEqual(
      f.calls.slice(from).map((c) => [c.context, c.state, c.answered]),
      [
        ["airlock/Stuck", "pending", 502],
        ["airlock/Stuck", "error", 201],
      ],
    );
    assert.match(f.calls.at(-1)!.description, /was cancelled$/);
    const rows = await t.db.pool.query<{ phase: string; delivery: string }>(
      "SELECT phase, delivery FROM forge_statuses WHERE run_id = $1 ORDER BY id",
      [run.id],
    );
    assert.deepEqual(
      rows.rows.map((r) => [r.phase, r.delivery]),
      [
        ["queued", "superseded"],
        ["running", "superseded"],
        ["cancelled", "sent"],
      ],
    );
  });

  it("GitLab's refusal of running over running (a second run of the workflow) counts as shown", async () => {
    const f = forges.gitlab;
    const from = f.calls.length;
    const [a] = await trigger(repoIds["acme/gitlab-stuck"]!);
    assert.ok(a);
    await waitRunning([a.id]);
    assert.equal(await t.service.orchestrator.sendForgeStatuses(), 1);
    const [b] = await trigger(repoIds["acme/gitlab-stuck"]!);
    assert.ok(b);
    await waitRunning([b.id]);
    assert.equal(await t.service.orchestrator.sendForgeStatuses(), 1);
    assert.deepEqual(
      f.calls.slice(from).map((c) => [c.context, c.state, c.answered]),
      [
        ["airlock/Stuck", "running", 201],
        ["airlock/Stuck", "running", 400],
      ],
    );
    const v = await runState(b.id);
    assert.equal(v.forgeStatus.delivery, "sent");
    assert.equal(v.forgeStatus.lastError, null);
    for (const r of [a, b]) {
      assert.ok((await t.api("POST", `/api/v1/runs/${r.id}/cancel`)).status < 300);
      await t.waitRun(r.id);
    }
    assert.equal(await t.service.orchestrator.sendForgeStatuses(), 1, "only the newest of the key");
    assert.deepEqual(
      f.calls.slice(from + 2).map((c) => [c.state, c.answered]),
      [["canceled", 201]],
    );
    assert.deepEqual(f.violations, []);
  });

  it("is given up after the bound, or at once when refused, with the last error and never the token", async () => {
    // Bitbucket busy three times (the bound is 3 attempts); Gitea refusing the token, echoing it.
    forges.bitbucket.failNext([503, 503, 503, 503, 503, 503]);
    forges.gitea.failNext([401, 401], (tok) => JSON.stringify({ message: `token ${tok} is not valid` }));
    const bb = await trigger(repoIds["acme/bitbucket"]!);
    const gt = await trigger(repoIds["acme/gitea"]!);
    for (const r of [...bb, ...gt]) await t.waitRun(r.id);
    for (let i = 0; i < 3; i++) await t.service.orchestrator.sendForgeStatuses();
    assert.equal(await t.service.orchestrator.sendForgeStatuses(), 0, "nothing left to try");
    for (const r of bb) {
      const v = await runState(r.id);
      assert.equal(v.forgeStatus.delivery, "failed");
      assert.equal(v.forgeStatus.attempts, 3);
      assert.match(v.forgeStatus.lastError, /HTTP 503/);
    }
    for (const r of gt) {
      const v = await runState(r.id);
      assert.equal(v.forgeStatus.delivery, "failed");
      assert.equal(v.forgeStatus.attempts, 1, "a refusal is not retried");
      assert.match(v.forgeStatus.lastError, /HTTP 401: token \[token\] is not valid/);
      const text = (await t.api("GET", `/api/v1/runs/${r.id}`)).text;
      for (const tok of ALL_TOKENS) assert.ok(!text.includes(tok));
    }
  });

  it("`airlock runs show` says where the run's status stands, and why it was not delivered", async () => {
    const home = tempHome();
    try {
      const env = stubEnv(t.service.url, home.dir, t.service.adminToken ?? "");
      const ci = runs["acme/github"]![0]!;
      const shown = await runCli(["runs", "show", String(ci.id)], env);
      assert.equal(shown.code, 0, shown.stderr);
      assert.match(shown.stdout, /^Forge: {4}airlock\/(CI success|Broken failure) · sent$/m);
      const refused = (
        await t.db.pool.query<{ run_id: string }>(
          "SELECT run_id FROM forge_statuses WHERE delivery = 'failed' AND last_error LIKE '%HTTP 401%' LIMIT 1",
        )
      ).rows[0]!.run_id;
      const gaveUp = await runCli(["runs", "show", refused], env);
      assert.match(
        gaveUp.stdout,
        /^Forge: {4}airlock\/\w+ \w+ · not delivered \(gave up\) · gitea answered HTTP 401: token \[token\] is not valid$/m,
      );
      const none = await runCli(["runs", "show", String(runs["acme/none"]![0]!.id)], env);
      assert.doesNotMatch(none.stdout, /^Forge:/m, "no token, no status, no line");
    } finally {
      home.remove();
    }
  });

  it("the tokens are in no log line, outbox row or API answer; the forges saw each only in its header", async () => {
    assert.ok(
      logLines.some((l) => l.includes("commit status not delivered")),
      "failures were logged",
    );
    assert.ok(logLines.some((l) => l.includes("commit status given up")));
    const log = logLines.join("\n");
    const rows = JSON.stringify((await t.db.pool.query("SELECT * FROM forge_statuses")).rows);
    const repos = JSON.stringify((await t.db.pool.query("SELECT * FROM repositories")).rows);
    for (const tok of ALL_TOKENS) {
      assert.ok(!log.includes(tok), "a token in the server log");
      assert.ok(!rows.includes(tok), "a token in the outbox");
      assert.ok(!repos.includes(tok));
    }
    for (const name of Object.keys(repoIds)) {
      const forge = await t.api("GET", `/api/v1/repositories/${repoIds[name]}/forge`);
      assert.equal(forge.status, 200);
      for (const tok of ALL_TOKENS) assert.ok(!forge.text.includes(tok));
    }
    // Each forge got its own project's token and no other.
    for (const k of KINDS) {
      const mine = [TOKENS[`acme/${k}`], TOKENS["acme/stuck"], TOKENS["acme/gitlab-stuck"]];
      const others = ALL_TOKENS.filter((x) => !mine.includes(x));
      for (const r of forges[k].raw) for (const o of others) assert.ok(!r.includes(o));
    }
  });
});

describe("a repository's forge setting", () => {
  it("is inferred from the clone URL, set and cleared over the API; a URL with credentials is refused", async () => {
    const made = await t.api<{ id: number }>("POST", "/api/v1/repositories", {
      name: "octo/hosted",
      cloneUrl: "https://gitlab.example.com/group/sub/hosted.git",
    });
    assert.equal(made.status, 201, made.text);
    const id = made.body.id;
    const got = await t.api<Json>("GET", `/api/v1/repositories/${id}/forge`);
    assert.equal(got.status, 200);
    assert.equal(got.body.resolved, null, "a self-hosted host names no forge");
    assert.match(got.body.problem, /unknown/);
    const set = await t.api<Json>("PUT", `/api/v1/repositories/${id}/forge`, { kind: "gitlab" });
    assert.deepEqual(set.body.resolved, {
      kind: "gitlab",
      apiUrl: "https://gitlab.example.com/api/v4",
      path: "group/sub/hosted",
    });
    const bad = await t.api<Json>("PUT", `/api/v1/repositories/${id}/forge`, {
      apiUrl: "https://user:secret@gitlab.example.com/api/v4",
    });
    assert.equal(bad.status, 400, bad.text);
    assert.ok(!bad.text.includes("secret@"));
    const wrongKind = await t.api<Json>("PUT", `/api/v1/repositories/${id}/forge`, { kind: "svn" });
    assert.equal(wrongKind.status, 400);
    const still = await t.api<Json>("GET", `/api/v1/repositories/${id}/forge`);
    assert.equal(still.body.kind, "gitlab", "a refused change leaves the setting as it was");
    const audit = await t.db.pool.query<{ details: Json }>(
      "SELECT details FROM audit_log WHERE action = 'repository.forge_changed' AND object_id = $1 ORDER BY seq",
      [String(id)],
    );
    assert.deepEqual(
      audit.rows.map((r) => [r.details.kind, r.details.apiUrl]),
      [["gitlab", null]],
      "the change is audited; the refused ones are not",
    );
    const cleared = await t.api<Json>("PUT", `/api/v1/repositories/${id}/forge`, { kind: null });
    assert.equal(cleared.body.kind, null);
    assert.equal(cleared.body.resolved, null);
    const missing = await t.api("GET", "/api/v1/repositories/999999/forge");
    assert.equal(missing.status, 404);
  });

  it("`airlock repos forge` shows, sets and forgets it; a wrong kind is a usage error", async () => {
    const home = tempHome();
    try {
      const env = stubEnv(t.service.url, home.dir, t.service.adminToken ?? "");
      const made = await t.api("POST", "/api/v1/repositories", {
        name: "octo/cli",
        cloneUrl: "git@git.example.com:octo/cli.git",
      });
      assert.equal(made.status, 201, made.text);
      const shown = await runCli(["repos", "forge", "octo/cli"], env);
      assert.equal(shown.code, 0, shown.stderr);
      assert.match(shown.stdout, /^Forge: {5}unknown \(inferred\)$/m);
      assert.match(shown.stdout, /^Token: {5}none \(no commit statuses are sent\)$/m);
      assert.match(shown.stdout, /^Problem: {3}.*--kind/m);
      const set = await runCli(["repos", "forge", "octo/cli", "--kind", "gitea"], env);
      assert.equal(set.code, 0, set.stderr);
      assert.match(set.stdout, /^Forge: {5}gitea \(set\)$/m);
      assert.match(set.stdout, /^API URL: {3}https:\/\/git\.example\.com\/api\/v1 \(inferred\)$/m);
      assert.match(set.stdout, /^Project: {3}octo\/cli$/m);
      const wrong = await runCli(["repos", "forge", "octo/cli", "--kind", "svn"], env);
      assert.equal(wrong.code, 2);
      assert.equal(wrong.error?.code, "USAGE");
      const url = await runCli(["repos", "forge", "octo/cli", "--api-url", "https://u:p@x/api"], env);
      assert.equal(url.code, 2);
      assert.equal(url.error?.code, "USAGE");
      assert.match(url.stderr, /without user, password/);
      assert.ok(!url.stderr.includes("u:p@"), url.stderr);
      const json = JSON.parse((await runCli(["repos", "forge", "octo/cli", "--json"], env)).stdout);
      assert.equal(json.kind, "gitea");
      const forgot = await runCli(["repos", "forge", "octo/cli", "--infer"], env);
      assert.match(forgot.stdout, /^Forge: {5}unknown \(inferred\)$/m);
    } finally {
      home.remove();
    }
  });
});
