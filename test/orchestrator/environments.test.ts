// Environments end to end: the real service, a real agent (fake provisioner: host processes) and
// real HTTP. A job that deploys to `production` (reviewers alice and bob, or a maintainer; only
// `main`) waits until someone other than the user who triggered the run approves it; a rejection
// or a branch that may not deploy fails it; a wait timer holds it back until its time (moved
// here by updating the row, never by sleeping); an environment a job names for the first time is
// made without rules; environment secrets and variables win over the repository's and the
// organization's. Nothing here waits for a clock.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createApiToken, createUser, setGrant, type Role } from "../../src/auth/index.js";
import { claimQueuedJobs } from "../../src/queue/index.js";
import { openRunKey } from "../../src/secrets/index.js";
import { makeRepo, type TempRepo } from "../helpers/repo.js";
import { eventually, startTestService, type TestService } from "../helpers/service.js";

const WORKFLOW = `on:
  push:
  workflow_dispatch:
    inputs:
      env: { type: string, default: production }
jobs:
  deploy:
    runs-on: ubuntu-latest
    environment:
      name: \${{ inputs.env || 'Production' }}
      url: https://deploy.example.test/\${{ steps.s.outputs.level }}
    outputs:
      level: \${{ steps.s.outputs.level }}
      key: \${{ steps.s.outputs.key }}
    steps:
      - id: s
        run: |
          echo "level=$LEVEL" >> "$GITHUB_OUTPUT"
          echo "key=$(printf %s "$KEY" | sha256sum | cut -c1-64)" >> "$GITHUB_OUTPUT"
        env:
          LEVEL: \${{ vars.LEVEL }}
          KEY: \${{ secrets.DEPLOY_KEY }}
          ONLY: \${{ secrets.ONLY_REPO }}
`;

let t: TestService;
let repo: TempRepo;
let repoId = 0;
const tokens: Record<string, string> = {};

type Answer<T> = { status: number; body: T; text: string };
async function as<T = Record<string, unknown>>(
  who: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<Answer<T>> {
  const res = await fetch(`${t.service.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${tokens[who]}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T, text };
}

interface JobRow {
  id: string;
  state: string;
  conclusion: string | null;
  error: string | null;
  wait_reason: string | null;
  gate: string | null;
  outputs: Record<string, string>;
  environment: string | null;
  environment_url: string | null;
  description: {
    contexts: { secrets: Record<string, string>; vars: Record<string, string> };
    sealedSecrets?: Record<string, string>;
  } | null;
}

async function jobOf(runId: number): Promise<JobRow> {
  const { rows } = await t.db.pool.query<JobRow>(`SELECT * FROM jobs WHERE run_id = $1`, [runId]);
  assert.equal(rows.length, 1);
  return rows[0]!;
}

async function trigger(who: string, body: Record<string, unknown> = {}): Promise<number> {
  const r = await as<{ runs: Array<{ id: number }> }>(
    who,
    "POST",
    `/api/v1/repositories/${repoId}/runs`,
    body,
  );
  assert.equal(r.status, 201, r.text);
  return r.body.runs[0]!.id;
}

/** The run's job once the gate has had its say (waiting, released or failed). */
async function gated(runId: number, what: (j: JobRow) => boolean): Promise<JobRow> {
  return eventually(async () => {
    const rows = (await t.db.pool.query<JobRow>(`SELECT * FROM jobs WHERE run_id = $1`, [runId])).rows;
    return rows[0] && what(rows[0]) ? rows[0] : undefined;
  }, `the job of run ${runId}`);
}
const waiting = (j: JobRow): boolean => j.state === "queued" && j.wait_reason !== null;

async function audit(
  action: string,
): Promise<Array<{ actor_display: string; details: Record<string, unknown> }>> {
  return (
    await t.db.pool.query<{ actor_display: string; details: Record<string, unknown> }>(
      `SELECT actor_display, details FROM audit_log WHERE action = $1 ORDER BY seq`,
      [action],
    )
  ).rows;
}

before(async () => {
  t = await startTestService({ leaseMs: 30_000 });
  repo = makeRepo({ ".github/workflows/deploy.yml": WORKFLOW });
  execFileSync("git", ["branch", "feature"], { cwd: repo.dir });
  const r = await t.api<{ id: number }>("POST", "/api/v1/repositories", {
    name: "acme/app",
    cloneUrl: repo.dir,
  });
  assert.equal(r.status, 201, r.text);
  repoId = r.body.id;
  const pool = t.db.pool;
  const org = Number(
    (await pool.query<{ id: string }>(`SELECT id FROM organizations WHERE name = 'default'`)).rows[0]!.id,
  );
  const people: Array<[string, Role]> = [
    ["alice", "developer"],
    ["bob", "viewer"],
    ["carol", "maintainer"],
    ["dave", "developer"],
    ["erin", "viewer"],
  ];
  for (const [name, role] of people) {
    const u = await createUser(pool, { name });
    await setGrant(pool, { userId: u.id, organizationId: org, repositoryId: repoId, role });
    tokens[name] = (
      await createApiToken(pool, { kind: "personal", name: "t", scopes: ["admin"], userId: u.id })
    ).token;
  }
  const put = async (path: string, body: unknown, want = 201): Promise<void> => {
    const a = await t.api("PUT", path, body);
    assert.equal(a.status, want, `${path}: ${a.text}`);
  };
  await put(`/api/v1/repositories/${repoId}/environments/production`, {
    reviewers: ["alice", "bob"],
    reviewerRole: "maintainer",
    branches: ["main", "release/**"],
  });
  await put(`/api/v1/repositories/${repoId}/environments/staging`, { waitTimerMinutes: 5 });
  await put(`/api/v1/organizations/default/variables/LEVEL`, { value: "organization" });
  await put(`/api/v1/repositories/${repoId}/variables/LEVEL`, { value: "repository" });
  await put(`/api/v1/repositories/${repoId}/environments/production/variables/LEVEL`, {
    value: "production",
  });
  await put(`/api/v1/repositories/${repoId}/secrets/DEPLOY_KEY`, { value: "repository-level-secret-value" });
  await put(`/api/v1/repositories/${repoId}/environments/production/secrets/DEPLOY_KEY`, {
    value: "production-level-secret-value",
  });
  await put(`/api/v1/repositories/${repoId}/secrets/ONLY_REPO`, { value: "only-in-the-repository" });
  await t.startAgent(await t.addNode("deployer"), { fake: true });
});

after(async () => {
  await t?.stop();
  repo?.remove();
});

describe("environments", () => {
  let runId = 0;

  it("a waiting job says who may approve it (not the user who triggered the run)", async () => {
    runId = await trigger("alice");
    const job = await gated(runId, waiting);
    assert.equal(job.gate, "environment");
    assert.equal(
      job.wait_reason,
      "waiting for approval to deploy to production by bob or a maintainer (or higher) of acme/app",
    );
    const list = await as<Array<{ state: string; approvers: string; environment: string }>>(
      "erin",
      "GET",
      `/api/v1/runs/${runId}/deployments`,
    );
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(
      list.body.map((d) => [d.environment, d.state, d.approvers]),
      [["production", "waiting", "bob or a maintainer (or higher) of acme/app"]],
    );
  });

  it("environment approval by the triggering user refused", async () => {
    const r = await as<{ error: { code: string; message: string } }>(
      "alice",
      "POST",
      `/api/v1/runs/${runId}/deployments`,
      {
        state: "approved",
      },
    );
    assert.equal(r.status, 403, r.text);
    assert.equal(r.body.error.code, "FORBIDDEN");
    assert.match(r.body.error.message, /alice triggered this run and cannot approve/);
    const job = await jobOf(runId);
    assert.equal(job.state, "queued");
    assert.equal(job.gate, "environment");
    const refused = await audit("deployment.review_refused");
    assert.equal(refused.at(-1)?.details.reviewer, "alice");
  });

  it("approval by users without the reviewer role and not named is refused", async () => {
    for (const who of ["dave", "erin"]) {
      const r = await as<{ error: { code: string; message: string } }>(
        who,
        "POST",
        `/api/v1/runs/${runId}/deployments`,
        {
          state: "approved",
        },
      );
      assert.equal(r.status, 403, r.text);
      assert.match(r.body.error.message, /^only bob or a maintainer \(or higher\) of acme\/app may review/);
    }
    assert.equal((await jobOf(runId)).state, "queued");
  });

  it("approval by a named reviewer releases the job: it runs with the environment's variables and secrets", async () => {
    const r = await as("bob", "POST", `/api/v1/runs/${runId}/deployments`, {
      state: "approved",
      environments: ["PRODUCTION"],
      comment: "ship it",
    });
    assert.equal(r.status, 200, r.text);
    const run = await t.waitRun(runId);
    assert.equal(run.conclusion, "success", JSON.stringify(run));
    const job = await jobOf(runId);
    assert.equal(job.outputs.level, "production", "environment > repository > organization");
    assert.equal(job.environment_url, "https://deploy.example.test/production");
    // The job got the environment's secret (its digest came back) and its description holds both
    // secrets it refers to sealed under the run's key, none in clear.
    assert.equal(job.outputs.key, createHash("sha256").update("production-level-secret-value").digest("hex"));
    assert.deepEqual(job.description?.contexts.secrets, { GITHUB_TOKEN: "" });
    const key = await openRunKey(t.db.pool, t.service.kms, runId);
    const sealed = job.description?.sealedSecrets ?? {};
    assert.equal(key.open("DEPLOY_KEY", sealed.DEPLOY_KEY ?? ""), "production-level-secret-value");
    assert.equal(key.open("ONLY_REPO", sealed.ONLY_REPO ?? ""), "only-in-the-repository");
    key.close();
    assert.equal(job.description?.contexts.vars.LEVEL, "production");
    const approved = await audit("deployment.approved");
    assert.equal(approved.length, 1);
    assert.match(approved[0]!.actor_display, /^bob/);
    assert.equal(approved[0]!.details.environment, "production");
    assert.equal(approved[0]!.details.comment, "ship it");
    assert.equal(approved[0]!.details.runId, runId);
    const again = await as("carol", "POST", `/api/v1/runs/${runId}/deployments`, { state: "approved" });
    assert.equal(again.status, 409, "nothing waits any more");
  });

  it("a rejection fails the job and names who rejected it", async () => {
    const id = await trigger("alice");
    await gated(id, waiting);
    const r = await as("carol", "POST", `/api/v1/runs/${id}/deployments`, {
      state: "rejected",
      comment: "not today",
    });
    assert.equal(r.status, 200, r.text);
    const run = await t.waitRun(id);
    assert.equal(run.conclusion, "failure");
    const job = await jobOf(id);
    assert.equal(job.conclusion, "failure");
    assert.equal(job.error, "The deployment to production was rejected by carol: not today");
    assert.equal((await audit("deployment.rejected")).at(-1)?.details.comment, "not today");
  });

  it("a branch that may not deploy fails the job at once with GitHub's message", async () => {
    const id = await trigger("alice", { ref: "feature" });
    const run = await t.waitRun(id);
    assert.equal(run.conclusion, "failure");
    const job = await jobOf(id);
    assert.equal(
      job.error,
      'Branch "feature" is not allowed to deploy to production due to environment protection rules.',
    );
    assert.equal((await as<unknown[]>("alice", "GET", `/api/v1/runs/${id}/deployments`)).body.length, 0);
  });

  it("cancelling a run whose job waits for approval cancels the job", async () => {
    const id = await trigger("alice");
    await gated(id, waiting);
    assert.equal((await as("alice", "POST", `/api/v1/runs/${id}/cancel`)).status, 202);
    const run = await t.waitRun(id);
    assert.equal(run.conclusion, "cancelled");
    assert.equal((await jobOf(id)).conclusion, "cancelled");
    const late = await as("bob", "POST", `/api/v1/runs/${id}/deployments`, { state: "approved" });
    assert.equal(late.status, 409, late.text);
  });

  it("a wait timer holds the job back until its time", async () => {
    const id = await trigger("alice", { event: "workflow_dispatch", inputs: { env: "Staging" } });
    const job = await gated(id, (j) => j.gate === null && j.wait_reason !== null);
    assert.match(job.wait_reason ?? "", /^waiting for the wait timer of staging \(until /);
    // Not claimable while the timer runs (checked directly, without waiting for anything).
    const client = await t.db.pool.connect();
    try {
      await client.query("BEGIN");
      const claimed = await claimQueuedJobs(client, 100);
      assert.ok(!claimed.some((c) => c.id === Number(job.id)));
      await client.query("ROLLBACK");
    } finally {
      client.release();
    }
    await t.db.pool.query(`UPDATE jobs SET eligible_at = now() - interval '1 second' WHERE id = $1`, [
      job.id,
    ]);
    const run = await t.waitRun(id);
    assert.equal(run.conclusion, "success", JSON.stringify(run));
    assert.equal((await jobOf(id)).outputs.level, "repository", "staging has no LEVEL of its own");
  });

  it("an environment a job names for the first time is made without rules", async () => {
    const id = await trigger("alice", { event: "workflow_dispatch", inputs: { env: "QA" } });
    assert.equal((await t.waitRun(id)).conclusion, "success");
    const envs = await as<Array<{ name: string; reviewers: string[]; createdBy: string }>>(
      "erin",
      "GET",
      `/api/v1/repositories/${repoId}/environments`,
    );
    assert.deepEqual(
      envs.body.map((e) => [e.name, e.createdBy]),
      [
        ["production", "admin"],
        ["qa", "workflow"],
        ["staging", "admin"],
      ],
    );
  });

  it("rules are checked: every problem in one line, nothing changed", async () => {
    const r = await t.api<{ error: { code: string; message: string } }>(
      "PUT",
      `/api/v1/repositories/${repoId}/environments/production`,
      { reviewers: ["alice", "nobody-here"], waitTimerMinutes: 50000, branches: ["!main"] },
    );
    assert.equal(r.status, 400, r.text);
    assert.equal(r.body.error.code, "ENVIRONMENT_INVALID");
    assert.ok(!r.body.error.message.includes("\n"));
    const bad = await t.api("PUT", `/api/v1/repositories/${repoId}/environments/a%01b`, {});
    assert.equal(bad.status, 400, bad.text);
    const still = await t.api<{ waitTimerMinutes: number; reviewers: string[] }>(
      "GET",
      `/api/v1/repositories/${repoId}/environments/Production`,
    );
    assert.deepEqual([still.body.waitTimerMinutes, still.body.reviewers], [0, ["alice", "bob"]]);
    const devPut = await as("carol", "PUT", `/api/v1/repositories/${repoId}/environments/production`, {
      reviewers: [],
    });
    assert.equal(devPut.status, 403, "a maintainer cannot change protection rules");
  });
});
