// Environments after review (the real service and HTTP; no agent: released jobs stay queued, which
// is all these checks need). "Never the user who triggered the run" holds for re-runs (the user who
// re-ran it, and whoever triggered the run it repeats), for service tokens (the user who made the
// token) and for webhook runs (a user whose linked forge login is the actor). Changing an
// environment's rules re-applies them to the jobs waiting on it at once, so none stays stuck.
// Deleting an environment deletes its secrets and variables, audited by name.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  createApiToken,
  createUser,
  findOrCreateExternalUser,
  setGrant,
  type Role,
} from "../../src/auth/index.js";
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
    environment: \${{ inputs.env || 'production' }}
    steps:
      - run: echo deploying
`;

let t: TestService;
let repo: TempRepo;
let repoId = 0;
let org = 0;
let commit = "";
const tokens: Record<string, string> = {};
const ids: Record<string, number> = {};

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
  run_attempt: number;
}

async function jobOf(runId: number): Promise<JobRow> {
  const { rows } = await t.db.pool.query<JobRow>(
    `SELECT * FROM jobs WHERE run_id = $1 AND run_attempt = (SELECT attempt FROM runs WHERE id = $1)`,
    [runId],
  );
  assert.equal(rows.length, 1);
  return rows[0]!;
}

async function waiting(runId: number): Promise<JobRow> {
  return eventually(async () => {
    const rows = (
      await t.db.pool.query<JobRow>(
        `SELECT * FROM jobs WHERE run_id = $1 AND run_attempt = (SELECT attempt FROM runs WHERE id = $1)`,
        [runId],
      )
    ).rows;
    return rows[0]?.state === "queued" && rows[0].gate === "environment" && rows[0].wait_reason !== null
      ? rows[0]
      : undefined;
  }, `the job of run ${runId} waiting for approval`);
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

async function rerun(who: string, runId: number): Promise<number> {
  const r = await as<{ id: number }>(who, "POST", `/api/v1/runs/${runId}/rerun`);
  assert.equal(r.status, 201, r.text);
  return r.body.id;
}

const review = (who: string, runId: number) =>
  as<{ error: { code: string; message: string } }>(who, "POST", `/api/v1/runs/${runId}/deployments`, {
    state: "approved",
  });

/** A refused review: a one-line 403 naming the reviewer as the one who triggered the run. */
async function refused(who: string, runId: number): Promise<void> {
  const r = await review(who, runId);
  assert.equal(r.status, 403, `${who} on run ${runId}: ${r.text}`);
  assert.equal(r.body.error.code, "FORBIDDEN");
  assert.equal(
    r.body.error.message,
    `${who} triggered this run and cannot approve or reject its deployment to production: another reviewer must`,
  );
  assert.equal((await jobOf(runId)).gate, "environment", "nothing changed");
}

async function audit(action: string): Promise<Array<{ details: Record<string, unknown> }>> {
  return (
    await t.db.pool.query<{ details: Record<string, unknown> }>(
      `SELECT details FROM audit_log WHERE action = $1 ORDER BY seq`,
      [action],
    )
  ).rows;
}

before(async () => {
  t = await startTestService({ leaseMs: 30_000 });
  repo = makeRepo({ ".github/workflows/deploy.yml": WORKFLOW });
  commit = execFileSync("git", ["rev-parse", "HEAD"], { cwd: repo.dir, encoding: "utf8" }).trim();
  const r = await t.api<{ id: number }>("POST", "/api/v1/repositories", {
    name: "acme/app",
    cloneUrl: repo.dir,
  });
  assert.equal(r.status, 201, r.text);
  repoId = r.body.id;
  const pool = t.db.pool;
  org = Number(
    (await pool.query<{ id: string }>(`SELECT id FROM organizations WHERE name = 'default'`)).rows[0]!.id,
  );
  const people: Array<[string, Role]> = [
    ["alice", "maintainer"],
    ["bob", "maintainer"],
    ["carol", "maintainer"],
    ["dave", "maintainer"],
  ];
  for (const [name, role] of people) {
    const u = await createUser(pool, { name });
    ids[name] = u.id;
    await setGrant(pool, { userId: u.id, organizationId: org, repositoryId: repoId, role });
    tokens[name] = (
      await createApiToken(pool, { kind: "personal", name: "t", scopes: ["admin"], userId: u.id })
    ).token;
  }
  // A service token of the organization, made by carol.
  tokens.service = (
    await createApiToken(pool, {
      kind: "service",
      name: "deployer",
      scopes: ["admin"],
      organizationId: org,
      createdBy: ids.carol,
    })
  ).token;
  const put = await t.api("PUT", `/api/v1/repositories/${repoId}/environments/production`, {
    reviewerRole: "maintainer",
  });
  assert.equal(put.status, 201, put.text);
});

after(async () => {
  await t?.stop();
  repo?.remove();
});

describe("who triggered a run never reviews its deployments", () => {
  it("a re-run: neither the user who re-ran it nor whoever triggered its earlier attempts", async () => {
    const run = await trigger("alice");
    await waiting(run);
    // Only a finished run is re-run: while its deployment waits, a re-run is refused (409).
    const early = await as<{ error: { code: string } }>("bob", "POST", `/api/v1/runs/${run}/rerun`);
    assert.equal(early.status, 409, early.text);
    assert.equal(early.body.error.code, "CONFLICT");
    assert.equal((await t.api("POST", `/api/v1/runs/${run}/cancel`)).status, 202);
    await t.waitRun(run);
    assert.equal(await rerun("bob", run), run, "a re-run is the same run");
    const second = await waiting(run);
    assert.equal(second.run_attempt, 2);
    const { rows } = await t.db.pool.query<{ attempt: number; triggering_actor: string; by: string | null }>(
      `SELECT attempt, triggering_actor, triggered_by_user_id AS by FROM run_attempts WHERE run_id = $1 ORDER BY attempt`,
      [run],
    );
    assert.deepEqual(
      rows.map((r) => [r.attempt, r.triggering_actor, Number(r.by)]),
      [
        [1, "alice", ids.alice],
        [2, "bob", ids.bob],
      ],
      "each attempt records who triggered it",
    );
    const actor = await t.db.pool.query<{ actor: string }>(`SELECT actor FROM runs WHERE id = $1`, [run]);
    assert.equal(actor.rows[0]?.actor, "alice", "a re-run keeps the run's actor");
    await refused("bob", run);
    await refused("alice", run);
    // Attempt 3: bob (who triggered attempt 2) still may not, nor carol who re-ran it.
    assert.equal((await t.api("POST", `/api/v1/runs/${run}/cancel`)).status, 202);
    await t.waitRun(run);
    await rerun("carol", run);
    const third = await waiting(run);
    assert.equal(third.run_attempt, 3);
    assert.notEqual(third.id, second.id, "a new attempt has new job rows: reviews are asked again");
    await refused("bob", run);
    await refused("carol", run);
    const ok = await review("dave", run);
    assert.equal(ok.status, 200, ok.text);
  });

  it("a run triggered through a service token: not the user who made the token", async () => {
    const id = await trigger("service");
    await waiting(id);
    const { rows } = await t.db.pool.query<{ actor: string; triggered_by_user_id: string }>(
      `SELECT actor, triggered_by_user_id FROM runs WHERE id = $1`,
      [id],
    );
    assert.match(rows[0]!.actor, /^service-token-\d+$/);
    assert.equal(Number(rows[0]!.triggered_by_user_id), ids.carol);
    await refused("carol", id);
    assert.equal((await review("bob", id)).status, 200);
  });

  it("a webhook run: not the user whose linked forge login pushed it", async () => {
    // dave logs in through the forge as dave-gh: the login is kept beside the identity.
    const linked = await findOrCreateExternalUser(t.db.pool, {
      provider: "github",
      subject: "4242",
      username: "dave-gh",
    });
    assert.equal(linked.created, true);
    const daveGh = linked.user;
    await setGrant(t.db.pool, {
      userId: daveGh.id,
      organizationId: org,
      repositoryId: repoId,
      role: "maintainer",
    });
    tokens[daveGh.name] = (
      await createApiToken(t.db.pool, { kind: "personal", name: "t", scopes: ["admin"], userId: daveGh.id })
    ).token;
    // Renamed at the forge: the next login refreshes the login.
    await findOrCreateExternalUser(t.db.pool, {
      provider: "github",
      subject: "4242",
      username: "Dave-Pushes",
    });
    const stored = await t.db.pool.query<{ login: string }>(
      `SELECT login FROM user_identities WHERE provider = 'github' AND subject = '4242'`,
    );
    assert.equal(stored.rows[0]!.login, "Dave-Pushes");
    const [run] = await t.service.orchestrator.runs.handleSourceEvent(
      repoId,
      {
        provider: "github",
        deliveryId: "d-1",
        event: "push",
        ref: "refs/heads/main",
        commit,
        repository: { fullName: "acme/app", cloneUrls: [repo.dir] },
        actor: "dave-pushes",
        payload: {},
      },
      "webhook",
    );
    await waiting(run!.id);
    await refused(daveGh.name, run!.id);
    assert.equal((await review("alice", run!.id)).status, 200);
  });
});

describe("changing an environment's rules", () => {
  it("releases a job nobody may approve any more", async () => {
    const put = await t.api("PUT", `/api/v1/repositories/${repoId}/environments/canary`, {
      reviewers: ["bob"],
    });
    assert.equal(put.status, 201, put.text);
    const id = await trigger("alice", { event: "workflow_dispatch", inputs: { env: "Canary" } });
    const job = await waiting(id);
    assert.match(job.wait_reason ?? "", /^waiting for approval to deploy to canary by bob$/);
    const removed = await t.api("PUT", `/api/v1/repositories/${repoId}/environments/canary`, {
      reviewers: [],
    });
    assert.equal(removed.status, 200, removed.text);
    const after = await jobOf(id);
    assert.deepEqual([after.state, after.gate, after.wait_reason], ["queued", null, null]);
    const list = await as<unknown[]>("dave", "GET", `/api/v1/runs/${id}/deployments`);
    assert.deepEqual(list.body, [], "no deployment waits for a review nobody is asked for");
    await t.api("POST", `/api/v1/runs/${id}/cancel`);
  });

  it("fails a waiting job whose ref may no longer deploy, and its run ends", async () => {
    await t.api("PUT", `/api/v1/repositories/${repoId}/environments/canary`, { reviewers: ["bob"] });
    const id = await trigger("alice", { event: "workflow_dispatch", inputs: { env: "canary" } });
    await waiting(id);
    const narrowed = await t.api("PUT", `/api/v1/repositories/${repoId}/environments/canary`, {
      branches: ["release/*"],
    });
    assert.equal(narrowed.status, 200, narrowed.text);
    const run = await t.waitRun(id);
    assert.equal(run.conclusion, "failure");
    assert.equal(
      (await jobOf(id)).error,
      'Branch "main" is not allowed to deploy to canary due to environment protection rules.',
    );
  });
});

describe("deleting an environment", () => {
  it("deletes its secrets and variables in the same transaction, audited by name only", async () => {
    const base = `/api/v1/repositories/${repoId}/environments/doomed`;
    assert.equal((await t.api("PUT", base, { reviewers: ["bob"] })).status, 201);
    assert.equal(
      (await t.api("PUT", `${base}/secrets/DEPLOY_KEY`, { value: "doomed-secret-value-1" })).status,
      201,
    );
    assert.equal(
      (await t.api("PUT", `${base}/secrets/API_TOKEN`, { value: "doomed-secret-value-2" })).status,
      201,
    );
    assert.equal((await t.api("PUT", `${base}/variables/LEVEL`, { value: "doomed" })).status, 201);
    // Another environment's and the repository's stay.
    assert.equal(
      (await t.api("PUT", `/api/v1/repositories/${repoId}/secrets/DEPLOY_KEY`, { value: "repository-value" }))
        .status,
      201,
    );
    const del = await t.api("DELETE", base);
    assert.equal(del.status, 204, del.text);
    const left = async (table: string, env: string | null): Promise<string[]> =>
      (
        await t.db.pool.query<{ name: string }>(
          `SELECT name FROM ${table} WHERE repository_id = $1 AND environment IS NOT DISTINCT FROM $2 ORDER BY name`,
          [repoId, env],
        )
      ).rows.map((r) => r.name);
    assert.deepEqual(await left("secrets", "doomed"), []);
    assert.deepEqual(await left("variables", "doomed"), []);
    assert.deepEqual(await left("secrets", null), ["DEPLOY_KEY"]);
    const entry = (await audit("environment.deleted")).at(-1)!;
    assert.deepEqual(
      [entry.details.environment, entry.details.secrets, entry.details.variables],
      ["doomed", ["API_TOKEN", "DEPLOY_KEY"], ["LEVEL"]],
    );
    assert.ok(!JSON.stringify(entry).includes("doomed-secret-value"), "never a value");
    // Made again (by a job or an administrator), it has nothing of the old one.
    assert.equal((await t.api("PUT", base, {})).status, 201);
    const secrets = await t.api<unknown[]>("GET", `${base}/secrets`);
    assert.equal(secrets.status, 200, secrets.text);
    assert.deepEqual(secrets.body, []);
  });
});
