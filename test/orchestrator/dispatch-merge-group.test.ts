// repository_dispatch (the REST route and GitHub's webhook) and merge_group (GitHub's webhook),
// through the real service with a real database and a real git repository, with GitHub's own
// example payloads (@octokit/webhooks-examples): which workflows run, on which commit and ref,
// with which github.event; the types and branches filters; a bad request refused in one line.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { after, before, describe, it } from "node:test";
import { makeRepo, type TempRepo } from "../helpers/repo.js";
import { startTestService, type TestService } from "../helpers/service.js";
import { workflowFile } from "./trigger-harness.js";

let t: TestService;
let repo: TempRepo;
let repoId: number;
let hookSecret: string;

before(async () => {
  t = await startTestService();
  repo = makeRepo({
    ".github/workflows/deploy.yml": workflowFile("Deploy", "  repository_dispatch:\n    types: [deploy]"),
    ".github/workflows/any.yml": workflowFile("Any dispatch", "  repository_dispatch:"),
    ".github/workflows/queue.yml": workflowFile(
      "Queue",
      "  merge_group:\n    types: [checks_requested]\n    branches: [main]",
    ),
    ".github/workflows/release-queue.yml": workflowFile(
      "Release queue",
      "  merge_group:\n    branches: [release]",
    ),
    ".github/workflows/ci.yml": workflowFile("CI", "  push:"),
  });
  const r = await t.api<{ id: number; webhookSecret: string }>("POST", "/api/v1/repositories", {
    name: "octo-org/octo-repo",
    cloneUrl: repo.dir,
  });
  assert.equal(r.status, 201, r.text);
  repoId = r.body.id;
  hookSecret = r.body.webhookSecret;
});
after(async () => {
  await t?.stop();
  repo?.remove();
});

interface Summary {
  id: number;
  event: string;
  ref: string;
  commit: string;
}
interface RunDetailView extends Summary {
  workflowName: string;
  trigger: string;
  trustTier: string;
  title: string;
}

const head = (ref = "main"): string =>
  execFileSync("git", ["rev-parse", ref], { cwd: repo.dir, encoding: "utf8" }).trim();

async function workflowsOf(runs: Summary[]): Promise<string[]> {
  const names: string[] = [];
  for (const r of runs)
    names.push((await t.api<RunDetailView>("GET", `/api/v1/runs/${r.id}`)).body.workflowName);
  return names.sort();
}

async function payloadOf(runId: number): Promise<Record<string, unknown>> {
  const { rows } = await t.db.pool.query<{ payload: Record<string, unknown> }>(
    `SELECT payload FROM runs WHERE id = $1`,
    [runId],
  );
  return rows[0]?.payload ?? {};
}

function example(name: string): Record<string, unknown> {
  const require = createRequire(import.meta.url);
  const all = require("@octokit/webhooks-examples") as Array<{
    name: string;
    examples: Array<Record<string, unknown>>;
  }>;
  const found = all.find((d) => d.name === name)?.examples[0];
  assert.ok(found, name);
  return structuredClone(found);
}

async function deliver(
  event: string,
  payload: unknown,
  id = randomUUID(),
): Promise<{ status: number; body: { runs?: Summary[]; duplicate?: boolean } }> {
  const body = Buffer.from(JSON.stringify(payload));
  const res = await fetch(`${t.service.url}/api/v1/webhooks/github/${repoId}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-github-event": event,
      "x-github-delivery": id,
      "x-hub-signature-256": `sha256=${createHmac("sha256", hookSecret).update(body).digest("hex")}`,
    },
    body,
  });
  return { status: res.status, body: (await res.json()) as { runs?: Summary[] } };
}

describe("repository_dispatch", () => {
  it("the API runs the default branch's workflows whose types take event_type", async () => {
    const client_payload = { version: "1.2.3", nested: { "$(touch /tmp/x)": "`id`" } };
    const r = await t.api<{ runs: Summary[] }>("POST", `/api/v1/repositories/${repoId}/dispatches`, {
      event_type: "deploy",
      client_payload,
    });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(await workflowsOf(r.body.runs), ["Any dispatch", "Deploy"]);
    for (const run of r.body.runs) {
      assert.equal(run.event, "repository_dispatch");
      assert.equal(run.ref, "refs/heads/main");
      assert.equal(run.commit, head());
      const p = await payloadOf(run.id);
      assert.equal(p.action, "deploy");
      assert.equal(p.branch, "main");
      assert.deepEqual(p.client_payload, client_payload);
      const v = (await t.api<RunDetailView>("GET", `/api/v1/runs/${run.id}`)).body;
      assert.equal(v.trigger, "manual");
      assert.equal(v.trustTier, "trusted");
    }
    const other = await t.api<{ runs: Summary[] }>("POST", `/api/v1/repositories/${repoId}/dispatches`, {
      event_type: "lint",
    });
    assert.equal(other.status, 201, other.text);
    assert.deepEqual(await workflowsOf(other.body.runs), ["Any dispatch"]);
  });

  it("refuses a malformed request in one line, making no run", async () => {
    const before = (await t.db.pool.query(`SELECT count(*)::int AS n FROM runs`)).rows[0] as { n: number };
    for (const body of [
      {},
      { event_type: "" },
      { event_type: "x".repeat(101) },
      { event_type: "deploy", client_payload: [1] },
      {
        event_type: "deploy",
        client_payload: Object.fromEntries([...Array(11).keys()].map((i) => [`k${i}`, i])),
      },
      { event_type: "deploy", ref: "main" },
    ]) {
      const r = await t.api<{ error: { code: string; message: string } }>(
        "POST",
        `/api/v1/repositories/${repoId}/dispatches`,
        body,
      );
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
      assert.equal(r.body.error.code, "USAGE");
      assert.doesNotMatch(r.body.error.message, /\n| {4}at /);
    }
    const missing = await t.api<{ error: { code: string } }>(
      "POST",
      `/api/v1/repositories/99999/dispatches`,
      {
        event_type: "deploy",
      },
    );
    assert.equal(missing.status, 404, missing.text);
    const now = (await t.db.pool.query(`SELECT count(*)::int AS n FROM runs`)).rows[0] as { n: number };
    assert.equal(now.n, before.n);
  });

  it("GitHub's repository_dispatch webhook runs on the latest commit of the branch it names", async () => {
    const p = example("repository_dispatch") as Record<string, unknown> & {
      repository: Record<string, unknown>;
    };
    p.action = "deploy";
    p.branch = "main";
    p.client_payload = { from: "webhook" };
    p.repository = { ...p.repository, default_branch: "main", clone_url: repo.dir };
    const first = await deliver("repository_dispatch", p);
    assert.equal(first.status, 202, JSON.stringify(first.body));
    assert.deepEqual(await workflowsOf(first.body.runs ?? []), ["Any dispatch", "Deploy"]);
    const run = first.body.runs?.[0];
    assert.equal(run?.commit, head());
    assert.deepEqual((await payloadOf(run?.id ?? 0)).client_payload, { from: "webhook" });
    // The same dispatch sent again (a new delivery) is a new event, not a replay: it runs again.
    const again = await deliver("repository_dispatch", p);
    assert.equal(again.status, 202, JSON.stringify(again.body));
    assert.equal(again.body.runs?.length, 2);
  });
});

describe("merge_group", () => {
  let groupSha: string;
  const groupRef = "refs/heads/gh-readonly-queue/main/pr-104-929f8209d40f77f4abc622a499c93a83babdbe64";

  before(() => {
    execFileSync("git", ["checkout", "-q", "-b", groupRef.slice("refs/heads/".length), "main"], {
      cwd: repo.dir,
    });
    execFileSync(
      "git",
      [
        "-c",
        "user.name=T",
        "-c",
        "user.email=t@x.invalid",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "Merge pull request #104\n\nbody",
      ],
      { cwd: repo.dir },
    );
    groupSha = head("HEAD");
    execFileSync("git", ["checkout", "-q", "main"], { cwd: repo.dir });
  });

  function group(action: string, baseRef = "refs/heads/main"): Record<string, unknown> {
    const p = example("merge_group") as Record<string, unknown> & {
      merge_group: Record<string, unknown>;
      repository: Record<string, unknown>;
    };
    p.action = action;
    p.merge_group = {
      ...p.merge_group,
      head_sha: groupSha,
      head_ref: groupRef,
      base_ref: baseRef,
      base_sha: head(),
      head_commit: {
        ...(p.merge_group.head_commit as object),
        id: groupSha,
        message: "Merge pull request #104\n\nbody",
      },
    };
    p.repository = { ...p.repository, clone_url: repo.dir };
    return p;
  }

  it("checks_requested runs the group's head commit on its ref, with github.event.merge_group", async () => {
    const r = await deliver("merge_group", group("checks_requested"));
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.deepEqual(await workflowsOf(r.body.runs ?? []), ["Queue"]);
    const run = r.body.runs?.[0];
    assert.equal(run?.event, "merge_group");
    assert.equal(run?.commit, groupSha);
    assert.equal(run?.ref, groupRef);
    const v = (await t.api<RunDetailView>("GET", `/api/v1/runs/${run?.id ?? 0}`)).body;
    assert.equal(v.title, "Merge pull request #104");
    assert.equal(v.trustTier, "trusted");
    const p = await payloadOf(run?.id ?? 0);
    assert.equal((p.merge_group as { head_sha: string }).head_sha, groupSha);
  });

  it("the types and branches filters hold", async () => {
    const other = await deliver("merge_group", group("destroyed"));
    assert.equal(other.status, 202, JSON.stringify(other.body));
    assert.deepEqual(other.body.runs, []);
    const release = await deliver("merge_group", group("checks_requested", "refs/heads/release"));
    assert.equal(release.status, 202, JSON.stringify(release.body));
    assert.deepEqual(await workflowsOf(release.body.runs ?? []), ["Release queue"]);
  });

  it("a merge group whose head_ref is not a safe ref is refused before anything runs", async () => {
    const p = group("checks_requested") as { merge_group: Record<string, unknown> };
    p.merge_group.head_ref = "refs/heads/x;$(id)/../..";
    const r = await deliver("merge_group", p);
    assert.equal(r.status, 400, JSON.stringify(r.body));
  });
});
