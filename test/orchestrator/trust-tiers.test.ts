// Trust tiers end to end (issue 9): a signed GitHub pull_request webhook from a fork, through the
// real service, to a real sandbox on a low-trust node. The fork's run is untrusted: it waits for a
// maintainer (a first-time contributor always does), runs only on the low-trust node once approved,
// and gets no secret — its workflow prints `env`, reads every file it can for the secret's value
// and would need a release token that it never gets. The approval is bound to the commit: the same
// commit again (another delivery) needs none, a new push waits again. A pull request from the
// repository itself is trusted and runs at once on the high-trust node.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { after, before, describe, it } from "node:test";
import { makeRepo, type TempRepo } from "../helpers/repo.js";
import { startTestService, type RunView, type TestService } from "../helpers/service.js";

const SECRET = "fork-must-never-see-7c1d9e";
const WORKFLOW = `on: pull_request
jobs:
  probe:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo "secret=[\${{ secrets.DEPLOY_TOKEN }}]"
          env | sort
          pat="$(echo ${Buffer.from(SECRET).toString("base64")} | base64 -d)"
          echo "found=$(grep -rlsI -D skip "$pat" /airlock /tmp /etc /var /run /home "$HOME" 2>/dev/null | wc -l)"
          echo "token=[\${ACTIONS_ID_TOKEN_REQUEST_TOKEN:-none}]"
      - run: |
          echo "title: \${{ github.event.pull_request.title }}"
          if [ -e /tmp/pwned ]; then echo "RAN the title"; fi
`;

let t: TestService;
let repo: TempRepo;
let repoId: number;
let hookSecret: string;
before(async () => {
  t = await startTestService();
  assert.equal((await t.api("POST", "/api/v1/organizations", { name: "acme" })).status, 201);
  repo = makeRepo({ ".github/workflows/ci.yml": WORKFLOW });
  const r = await t.api<{ id: number; webhookSecret: string }>("POST", "/api/v1/repositories", {
    name: "acme/app",
    cloneUrl: repo.dir,
    organization: "acme",
  });
  assert.equal(r.status, 201, r.text);
  repoId = r.body.id;
  hookSecret = r.body.webhookSecret;
  const set = await t.api("PUT", `/api/v1/repositories/${repoId}/secrets/DEPLOY_TOKEN`, { value: SECRET });
  assert.equal(set.status, 201, set.text);
  // A high-trust node (the default pool) and a low-trust one, open to every repository.
  await t.startAgent(await t.addNode("high-1"), { fake: true });
  assert.ok((await t.api("POST", "/api/v1/pools", { name: "forks", trust: "low", open: true })).status < 300);
  const reg = await t.api<{ token: string }>("POST", "/api/v1/nodes/registrations", {
    name: "low-1",
    pool: "forks",
  });
  assert.equal(reg.status, 201, reg.text);
  await t.startAgent(reg.body.token);
});
after(async () => {
  await t?.stop();
  repo?.remove();
});

/** A commit on a branch of the local repository, with refs/pull/N/head pointing at it. */
function commitFor(n: number, file: string): string {
  execFileSync("git", ["checkout", "-q", "-B", `pr-${n}`, "main"], { cwd: repo.dir });
  execFileSync("bash", ["-c", `echo ${file} > ${file} && git add ${file} && git commit -qm ${file}`], {
    cwd: repo.dir,
  });
  const sha = execFileSync("git", ["rev-parse", "HEAD"], { cwd: repo.dir, encoding: "utf8" }).trim();
  execFileSync("git", ["update-ref", `refs/pull/${n}/head`, sha], { cwd: repo.dir });
  execFileSync("git", ["checkout", "-q", "main"], { cwd: repo.dir });
  return sha;
}

function prPayload(n: number, sha: string, head: string, association: string, action = "opened"): Buffer {
  const require = createRequire(import.meta.url);
  const all = require("@octokit/webhooks-examples") as Array<{
    name: string;
    examples: Array<Record<string, unknown>>;
  }>;

  const example = all.find((d) => d.name === "pull_request")!.examples.find((e) => e.action === "opened");
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a free-form JSON payload edited in place
  const p = structuredClone(example) as any;
  p.action = action;
  p.number = n;
  p.pull_request = {
    ...p.pull_request,
    number: n,
    title: n === 1 ? 'fix $(touch /tmp/pwned) `touch /tmp/pwned` "quoted' : `change ${n}`,
    author_association: association,
    updated_at: `2026-12-03T10:0${n}:00Z-${action}-${sha.slice(0, 6)}`,
    head: {
      ...p.pull_request.head,
      ref: `pr-${n}`,
      sha,
      repo: { ...p.pull_request.head.repo, full_name: head },
    },
    base: {
      ...p.pull_request.base,
      ref: "main",
      repo: { ...p.pull_request.base.repo, full_name: "acme/app" },
    },
  };
  p.repository = { ...p.repository, full_name: "acme/app", clone_url: repo.dir };
  p.sender = { ...p.sender, login: head.split("/")[0] };
  return Buffer.from(JSON.stringify(p));
}

async function deliver(body: Buffer): Promise<number[]> {
  const res = await fetch(`${t.service.url}/api/v1/webhooks/github/${repoId}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-github-event": "pull_request",
      "x-github-delivery": randomUUID(),
      "x-hub-signature-256": `sha256=${createHmac("sha256", hookSecret).update(body).digest("hex")}`,
    },
    body,
  });
  const text = await res.text();
  assert.equal(res.status, 202, text);
  return (JSON.parse(text) as { runs: Array<{ id: number }> }).runs.map((r) => r.id);
}

interface TrustView extends RunView {
  event: string;
  commit: string;
  trustTier: string;
  approval: string | null;
  approvalReason: string | null;
}
const view = async (id: number): Promise<TrustView> =>
  (await t.api<TrustView>("GET", `/api/v1/runs/${id}`)).body;

describe("trust tiers", () => {
  it("a fork's run waits for a maintainer, then runs on a low-trust node without any secret", async () => {
    const sha = commitFor(1, "fork-change");
    const [runId] = await deliver(prPayload(1, sha, "mallory/app", "FIRST_TIME_CONTRIBUTOR"));
    let v = await view(runId!);
    assert.equal(v.trustTier, "untrusted");
    assert.equal(v.approval, "required");
    assert.match(
      v.approvalReason ?? "",
      /pull request from the fork mallory\/app, by first-time contributor mallory/,
    );
    assert.equal(v.state, "queued");
    assert.equal(v.jobs.length, 0, "nothing of it is planned before approval");

    const approved = await t.api<{ started: number[] }>("POST", `/api/v1/runs/${runId}/approve`);
    assert.equal(approved.status, 200, approved.text);
    assert.deepEqual(approved.body.started, [runId]);
    const done = await t.waitRun(runId!, 120_000);
    assert.equal(done.conclusion, "success", JSON.stringify(done));
    assert.equal(done.jobs[0]?.node, "low-1", "only a low-trust node");
    const log = (await t.api("GET", `/api/v1/jobs/${done.jobs[0].id}/logs`)).text;
    assert.ok(log.includes("secret=[]"), log);
    assert.ok(log.includes("token=[none]"), "no identity token either");
    assert.ok(log.includes("found=0"), "no file the job can read holds the secret");
    // A hostile title stays data in an untrusted run, and the workflow is warned about it.
    assert.ok(log.includes('title: fix $(touch /tmp/pwned) `touch /tmp/pwned` "quoted'), log);
    assert.ok(!log.split("\n").some((l) => l.trim() === "| RAN the title"), log);
    assert.match(log, /github\.event\.pull_request\.title \}\} in a run script is set by whoever opened/);
    assert.ok(!log.includes(SECRET), log);
    const { rows } = await t.db.pool.query("SELECT description FROM jobs WHERE run_id = $1", [runId]);
    const description = JSON.stringify(rows[0]);
    assert.ok(!description.includes("sealedSecrets") && !description.includes("sealedSource"));
    assert.match(description, /"trustTier":"untrusted"/);
    const released = await t.db.pool.query(
      "SELECT 1 FROM job_secret_releases r JOIN jobs j ON j.id = r.job_id WHERE j.run_id = $1",
      [runId],
    );
    assert.equal(released.rows.length, 0, "no release token was ever made");
    const audit = await t.db.pool.query("SELECT 1 FROM audit_log WHERE action = 'run.approved'");
    assert.equal(audit.rows.length, 1);

    // The same commit again (another delivery for it): approved already. A new push waits again.
    const [again] = await deliver(prPayload(1, sha, "mallory/app", "CONTRIBUTOR", "reopened"));
    v = await view(again!);
    assert.equal(v.approval, "approved");
    assert.equal((await t.waitRun(again!, 120_000)).conclusion, "success");
    const next = commitFor(1, "fork-change-2");
    const [pushed] = await deliver(prPayload(1, next, "mallory/app", "CONTRIBUTOR", "synchronize"));
    v = await view(pushed!);
    assert.equal(v.approval, "required", "a push after the approval needs a new one");
    // Cancelled while it waits: it ends at once (nothing of it ever ran).
    const [third] = await deliver(
      prPayload(1, commitFor(1, "fork-change-3"), "mallory/app", "CONTRIBUTOR", "synchronize"),
    );
    assert.equal((await t.api("POST", `/api/v1/runs/${third}/cancel`)).status, 202);
    assert.equal((await view(third!)).conclusion, "cancelled");
    assert.equal(
      (await t.api("POST", `/api/v1/runs/${third}/approve`)).status,
      409,
      "nothing left to approve",
    );
    const rejected = await t.api("POST", `/api/v1/runs/${pushed}/reject`);
    assert.equal(rejected.status, 200, rejected.text);
    v = await view(pushed!);
    assert.equal(v.conclusion, "cancelled");
    assert.equal((await t.api("POST", `/api/v1/runs/${pushed}/approve`)).status, 409, "decided already");

    // A re-run (the run's next attempt) keeps its tier; whether it waits is decided again by its
    // commit: the rejected one waits for a maintainer again, the approved one runs at once.
    const waitsAgain = await t.api<{ attempt: number }>("POST", `/api/v1/runs/${pushed}/rerun`);
    assert.equal(waitsAgain.status, 201, waitsAgain.text);
    assert.equal(waitsAgain.body.attempt, 2);
    v = await view(pushed!);
    assert.deepEqual([v.trustTier, v.approval, v.state], ["untrusted", "required", "queued"]);
    assert.equal((await t.api("POST", `/api/v1/runs/${pushed}/reject`)).status, 200);
    const runsAgain = await t.api<{ attempt: number }>("POST", `/api/v1/runs/${runId}/rerun`);
    assert.equal(runsAgain.status, 201, runsAgain.text);
    const second = await t.waitRun(runId!, 120_000);
    assert.equal(second.conclusion, "success", JSON.stringify(second));
    assert.equal(second.jobs[0]?.node, "low-1", "still only a low-trust node");
    assert.notEqual(second.jobs[0]?.id, done.jobs[0]?.id);
    v = await view(runId!);
    assert.deepEqual([v.trustTier, v.approval], ["untrusted", "approved"]);
  });

  it("pull_request_target runs the base branch's workflow, not the one the fork brought", async () => {
    const target = (who: string): string =>
      `on: pull_request_target\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo "workflow of ${who}"\n`;
    execFileSync(
      "bash",
      [
        "-c",
        "mkdir -p .github/workflows && cat > .github/workflows/target.yml && git add -A && git commit -qm target",
      ],
      {
        cwd: repo.dir,
        input: target("the base branch"),
      },
    );
    const base = execFileSync("git", ["rev-parse", "HEAD"], { cwd: repo.dir, encoding: "utf8" }).trim();
    // The fork's branch rewrites that workflow.
    execFileSync("git", ["checkout", "-q", "-B", "pr-3", "main"], { cwd: repo.dir });
    execFileSync("bash", ["-c", "cat > .github/workflows/target.yml && git commit -qam evil"], {
      cwd: repo.dir,
      input: target("the fork"),
    });
    const sha = execFileSync("git", ["rev-parse", "HEAD"], { cwd: repo.dir, encoding: "utf8" }).trim();
    execFileSync("git", ["update-ref", "refs/pull/3/head", sha], { cwd: repo.dir });
    execFileSync("git", ["checkout", "-q", "main"], { cwd: repo.dir });
    const runs = await Promise.all(
      (await deliver(prPayload(3, sha, "mallory/app", "CONTRIBUTOR"))).map(view),
    );
    const t3 = runs.find((r) => r.event === "pull_request_target");
    assert.ok(t3, JSON.stringify(runs.map((r) => r.event)));
    assert.equal(t3.trustTier, "trusted");
    assert.equal(t3.commit, base, "the base branch's head");
    const done = await t.waitRun(t3.id, 120_000);
    assert.equal(done.conclusion, "success");
    const log = (await t.api("GET", `/api/v1/jobs/${done.jobs[0]!.id}/logs`)).text;
    assert.ok(log.includes("workflow of the base branch") && !log.includes("workflow of the fork"), log);
    // The fork's own pull_request run is untrusted and waits, as before.
    const own = runs.find((r) => r.event === "pull_request");
    assert.equal(own?.approval, "required");
  });

  it("a manual run cannot pair a commit with a ref it is not on", async () => {
    const off = commitFor(4, "not-on-main");
    const r = await t.api<{ error: { code: string; message: string } }>(
      "POST",
      `/api/v1/repositories/${repoId}/runs`,
      {
        ref: "main",
        commit: off,
      },
    );
    assert.equal(r.status, 400, r.text);
    assert.match(
      r.body.error.message,
      /^commit [0-9a-f]{40} is not on refs\/heads\/main: give the ref the commit is on/,
    );
    const onBranch = await t.api("POST", `/api/v1/repositories/${repoId}/runs`, {
      ref: "pr-4",
      commit: off,
      event: "push",
    });
    assert.equal(onBranch.status, 201, onBranch.text);
  });

  it("a pull request from the repository itself is trusted and runs at once on the high-trust node", async () => {
    const sha = commitFor(2, "own-change");
    const [runId] = await deliver(prPayload(2, sha, "acme/app", "MEMBER"));
    const v = await view(runId!);
    assert.equal(v.trustTier, "trusted");
    assert.equal(v.approval, null);
    const done = await t.waitRun(runId!, 120_000);
    assert.equal(done.conclusion, "success");
    assert.equal(done.jobs[0]?.node, "high-1");
  });
});
