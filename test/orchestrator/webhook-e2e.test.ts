// End to end through the real service: a GitHub push webhook (a real payload from
// @octokit/webhooks-examples, pointed at a local repository and signed with the repository's
// secret) → a run → a job on a node agent in a real sandbox → logs over the API.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHmac, randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { execFileSync } from "node:child_process";
import { makeRepo, type TempRepo } from "../helpers/repo.js";
import { startTestService, type TestService } from "../helpers/service.js";
import { fixture, signed } from "../sources/helpers.js";

const workflow = `name: CI
on:
  push:
    branches: [main]
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: echo "built \${{ github.sha }} on \${{ github.ref_name }}"
      - run: echo "second step says \${{ github.event.head_commit.message }}"
  other:
    needs: build
    runs-on: ubuntu-latest
    steps:
      - run: echo "needs result \${{ needs.build.result }}"
`;

let t: TestService;
let repo: TempRepo;
let repoId: number;
let secret: string;
let commit: string;

before(async () => {
  t = await startTestService();
  await t.startAgent(await t.addNode("node-a"));
  repo = makeRepo({ ".github/workflows/ci.yml": workflow, "README.md": "hello\n" });
  commit = execFileSync("git", ["rev-parse", "HEAD"], { cwd: repo.dir, encoding: "utf8" }).trim();
  const r = await t.api<{ id: number; webhookSecret: string; webhookUrls: { github: string } }>(
    "POST",
    "/api/v1/repositories",
    { name: "acme/app", cloneUrl: repo.dir },
  );
  assert.equal(r.status, 201, r.text);
  repoId = r.body.id;
  secret = r.body.webhookSecret;
  assert.ok(r.body.webhookUrls.github.startsWith(t.service.config.publicUrl));
});

after(async () => {
  await t.stop();
  repo.remove();
});

function pushPayload(): Buffer {
  const require = createRequire(import.meta.url);
  const all = require("@octokit/webhooks-examples") as Array<{
    name: string;
    examples: Array<Record<string, unknown>>;
  }>;
  const example = all
    .find((d) => d.name === "push")
    ?.examples.find((e) => e.deleted === false && e.head_commit);
  assert.ok(example, "a push example with a head commit");
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a free-form JSON payload edited in place
  const payload = structuredClone(example) as Record<string, any>;
  payload.ref = "refs/heads/main";
  payload.before = "0".repeat(40);
  payload.after = commit;
  payload.created = true;
  payload.head_commit = { ...payload.head_commit, id: commit, message: "initial commit" };
  payload.commits = [payload.head_commit];
  payload.repository = { ...payload.repository, full_name: "acme/app", clone_url: repo.dir };
  return Buffer.from(JSON.stringify(payload));
}

async function deliver(body: Buffer, delivery: string, signature?: string): Promise<Response> {
  const sig = signature ?? `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
  return fetch(`${t.service.url}/api/v1/webhooks/github/${repoId}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-github-event": "push",
      "x-github-delivery": delivery,
      "x-hub-signature-256": sig,
    },
    body,
  });
}

describe("webhook → run → logs", () => {
  it("runs the workflow of the pushed commit and serves its logs", async () => {
    const delivery = randomUUID();
    const res = await deliver(pushPayload(), delivery);
    assert.equal(res.status, 202, await res.clone().text());
    const { runs } = (await res.json()) as { runs: Array<{ id: number; commit: string }> };
    assert.equal(runs.length, 1);
    assert.equal(runs[0]?.commit, commit);
    const run = await t.waitRun(runs[0]?.id ?? -1);
    assert.equal(run.conclusion, "success", JSON.stringify(run));
    assert.deepEqual(run.jobs.map((j) => [j.name, j.conclusion]).sort(), [
      ["build", "success"],
      ["other", "success"],
    ]);
    const build = run.jobs.find((j) => j.name === "build");
    const log = await t.api("GET", `/api/v1/jobs/${build!.id}/logs`);
    assert.equal(log.status, 200);
    assert.ok(log.text.includes(`built ${commit} on main`), log.text);
    assert.ok(log.text.includes("second step says initial commit"), log.text);
    const other = run.jobs.find((j) => j.name === "other");
    const log2 = await t.api("GET", `/api/v1/jobs/${other!.id}/logs`);
    assert.ok(log2.text.includes("needs result success"), log2.text);

    // The same delivery again is a no-op.
    const again = await deliver(pushPayload(), delivery);
    assert.equal(again.status, 200);
    assert.deepEqual(await again.json(), { duplicate: true });
    const list = await t.api<unknown[]>("GET", `/api/v1/runs?repository=${repoId}`);
    assert.equal(list.body.length, 1);
  });

  it("refuses a wrong or missing signature with 401 and stores nothing", async () => {
    const delivery = randomUUID();
    const bad = await deliver(pushPayload(), delivery, "sha256=" + "0".repeat(64));
    assert.equal(bad.status, 401);
    const missing = await fetch(`${t.service.url}/api/v1/webhooks/github/${repoId}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-github-event": "push",
        "x-github-delivery": delivery,
      },
      body: pushPayload(),
    });
    assert.equal(missing.status, 401);
    const { rows } = await t.db.pool.query(`SELECT 1 FROM webhook_deliveries WHERE delivery_id = $1`, [
      delivery,
    ]);
    assert.equal(rows.length, 0);
  });

  for (const [provider, file, event, oldSha, oldBranch] of [
    ["gitlab", "gitlab-push.json", "Push Hook", "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", "master"],
    ["gitea", "gitea-push.json", "push", "bffeb74224043ba2feb48d137756c8a9331c449a", "develop"],
    ["bitbucket", "bitbucket-push.json", "repo:push", "8d1e2b5c7f3a9e4d6b0c1a2f3e4d5c6b7a8f9e0d", "main"],
  ] as const) {
    it(`runs the workflow for a signed ${provider} push`, async () => {
      // The provider's documented example, pointed at this repository's commit and branch.
      const text = fixture(file)
        .toString("utf8")
        .replaceAll(oldSha, commit)
        .replaceAll(`refs/heads/${oldBranch}`, "refs/heads/main")
        .replaceAll(`"name": "${oldBranch}"`, `"name": "main"`);
      const req = signed(provider, event, text, { secret, delivery: randomUUID() });
      const res = await fetch(`${t.service.url}/api/v1/webhooks/${provider}/${repoId}`, {
        method: "POST",
        headers: req.headers as Record<string, string>,
        body: req.rawBody,
      });
      assert.equal(res.status, 202, await res.clone().text());
      const { runs } = (await res.json()) as { runs: Array<{ id: number; commit: string }> };
      assert.equal(runs.length, 1);
      const run = await t.waitRun(runs[0]?.id ?? -1);
      assert.equal(run.conclusion, "success", JSON.stringify(run));
    });
  }
});
