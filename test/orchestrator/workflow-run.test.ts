// `on: workflow_run` on the orchestrator, with a real database and a real git repository: runs of
// a named workflow announce requested / in_progress / completed once each (whichever process
// ticks), the listening workflows of the default branch run with github.event.workflow_run, the
// `workflows:`, `types:` and `branches:` filters hold, chains stop after three levels, and an
// untrusted run announces nothing until a maintainer approves it.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { chainDepth, WorkflowRunEvents } from "../../src/orchestrator/workflow-run.js";
import { triggerHarness, workflowFile, type RunRow, type TriggerHarness } from "./trigger-harness.js";

const FILES = {
  ".github/workflows/build.yml": workflowFile("Build", "  push:\n  pull_request:"),
  ".github/workflows/after.yml": workflowFile(
    "After",
    "  workflow_run:\n    workflows: [Build]\n    types: [completed]\n    branches: [main]",
  ),
  ".github/workflows/watch.yml": workflowFile(
    "Watch",
    "  workflow_run:\n    workflows: [Build]\n    types: [requested]",
  ),
  ".github/workflows/l1.yml": workflowFile(
    "L1",
    "  workflow_run:\n    workflows: [After]\n    types: [completed]",
  ),
  ".github/workflows/l2.yml": workflowFile(
    "L2",
    "  workflow_run:\n    workflows: [L1]\n    types: [completed]",
  ),
  ".github/workflows/l3.yml": workflowFile(
    "L3",
    "  workflow_run:\n    workflows: [L2]\n    types: [completed]",
  ),
};

let h: TriggerHarness;
let events: WorkflowRunEvents;
const fresh = (): WorkflowRunEvents =>
  new WorkflowRunEvents({ pool: h.db.pool, config: h.config, logger: h.logger, runs: h.runs });

before(async () => {
  h = await triggerHarness(FILES);
  events = fresh();
});
after(async () => {
  await h?.close();
});

async function complete(runId: number, conclusion: "success" | "failure"): Promise<void> {
  await h.db.pool.query(
    `UPDATE runs SET state = 'completed', conclusion = $2, started_at = coalesce(started_at, now()), finished_at = now()
      WHERE id = $1`,
    [runId, conclusion],
  );
}

async function since(id: number): Promise<RunRow[]> {
  return (await h.runRows()).filter((r) => r.id > id);
}

describe("on: workflow_run", () => {
  let build: RunRow;

  it("a requested run starts the workflows listening for `requested` only", async () => {
    const [s] = await h.runs.trigger(h.repositoryId, { event: "push" });
    assert.ok(s);
    const made = await since(s.id - 1);
    assert.deepEqual(
      made.map((r) => r.workflow_name),
      ["Build"],
    );
    build = made[0] as RunRow;
    assert.equal(await events.tick(), 1);
    const [watch, ...rest] = await since(build.id);
    assert.deepEqual(rest, []);
    assert.equal(watch?.workflow_name, "Watch");
    assert.equal(watch?.event, "workflow_run");
    assert.equal(watch?.trigger, "workflow_run");
    assert.equal(watch?.payload.action, "requested");
    const wr = watch?.payload.workflow_run as Record<string, unknown>;
    assert.equal(wr.id, build.id);
    assert.equal(wr.status, "queued");
    assert.equal(wr.conclusion, null);
    // Nothing announced twice: this process again, or another one.
    assert.equal(await events.tick(), 0);
    assert.equal(await fresh().tick(), 0);
  });

  it("a completed run starts `completed` listeners on the default branch, with the run's facts", async () => {
    const watchId = (await since(build.id))[0]?.id ?? 0;
    // The default branch moved on since the Build run's commit: the listener runs on the new head.
    const head = h.commit({ "NOTES.md": "later\n" });
    await complete(build.id, "failure");
    // Two processes at once: each event is announced by exactly one of them.
    const counts = await Promise.all([events.tick(), fresh().tick()]);
    assert.equal(counts[0] + counts[1], 1);
    const made = await since(watchId);
    assert.deepEqual(
      made.map((r) => r.workflow_name),
      ["After"],
    );
    const run = made[0] as RunRow;
    assert.equal(run.ref, "refs/heads/main");
    assert.equal(run.commit, head);
    assert.equal(run.trust_tier, "trusted");
    assert.equal(run.payload.action, "completed");
    const wr = run.payload.workflow_run as Record<string, unknown>;
    assert.equal(wr.id, build.id);
    assert.equal(wr.name, "Build");
    assert.equal(wr.path, ".github/workflows/build.yml");
    assert.equal(wr.conclusion, "failure");
    assert.equal(wr.status, "completed");
    assert.equal(wr.head_branch, "main");
    assert.equal(wr.head_sha, build.commit);
    assert.equal(wr.event, "push");
    assert.equal(wr.html_url, `https://ci.example.test/api/v1/runs/${build.id}`);
    assert.deepEqual(run.payload.workflow, { name: "Build", path: ".github/workflows/build.yml" });
    assert.equal(await chainDepth(h.db.pool, run.id), 1);
  });

  it("chains stop after three levels of workflow_run, as on GitHub", async () => {
    const names: string[] = [];
    for (let i = 0; i < 4; i++) {
      const runs = await h.runRows();
      const last = runs.at(-1) as RunRow;
      await complete(last.id, "success");
      await events.tick();
      const next = await since(last.id);
      names.push(...next.map((r) => r.workflow_name));
    }
    // After (level 1) → L1 (2) → L2 (3); L2's completion starts nothing (L3 would be level 4).
    assert.deepEqual(names, ["L1", "L2"]);
    const l2 = (await h.runRows()).at(-1) as RunRow;
    assert.equal(l2.workflow_name, "L2");
    assert.equal(await chainDepth(h.db.pool, l2.id), 3);
    assert.ok(h.logLines().some((l) => /chain limit reached/.test(l.msg)));
  });

  it("`branches:` is about the triggering run's branch", async () => {
    const sha = h.commit({ "feature.txt": "x\n" }, "feature");
    const [s] = await h.runs.trigger(h.repositoryId, { event: "push", ref: "feature" });
    assert.ok(s);
    await events.tick(); // requested: Watch (no branch filter)
    await complete(s.id, "success");
    await events.tick(); // completed: After filters on main, so nothing
    const made = await since(s.id);
    assert.deepEqual(
      made.map((r) => [r.workflow_name, (r.payload.workflow_run as { head_branch: string }).head_branch]),
      [["Watch", "feature"]],
    );
    assert.equal(s.commit, sha);
  });

  it("an untrusted run announces nothing until a maintainer approves it", async () => {
    const sha = h.commit({ "fork.txt": "from a fork\n" }, "pr-7");
    execFileSync("git", ["update-ref", "refs/pull/7/head", sha], { cwd: h.repo.dir });
    const [pr] = await h.runs.handleSourceEvent(
      h.repositoryId,
      {
        provider: "github",
        deliveryId: "d-7",
        event: "pull_request",
        action: "opened",
        ref: "refs/pull/7/head",
        commit: sha,
        baseRef: "refs/heads/main",
        repository: { fullName: "acme/app", cloneUrls: [h.repo.dir] },
        actor: "mallory",
        pullRequest: {
          number: 7,
          headRef: "refs/heads/pr-7",
          headCloneUrls: [],
          fetchRef: "refs/pull/7/head",
          headRepository: "mallory/app",
          authorAssociation: "FIRST_TIME_CONTRIBUTOR",
        },
        payload: { number: 7, pull_request: { number: 7, head: { ref: "pr-7" }, base: { ref: "main" } } },
      },
      "webhook",
    );
    assert.ok(pr);
    const row = (await h.runRows()).find((r) => r.id === pr.id);
    assert.equal(row?.trust_tier, "untrusted");
    assert.equal(row?.approval, "required");
    assert.equal(await events.tick(), 0);
    assert.deepEqual(await since(pr.id), []);

    await h.runs.approve(pr.id, "maintainer");
    assert.equal(await events.tick(), 1);
    const made = await since(pr.id);
    assert.deepEqual(
      made.map((r) => [
        r.workflow_name,
        r.trust_tier,
        (r.payload.workflow_run as { head_branch: string }).head_branch,
      ]),
      [["Watch", "trusted", "pr-7"]],
    );
    // Its run on the default branch's code, not the fork's commit.
    assert.notEqual(made[0]?.commit, sha);
  });

  it("a rejected run never announces", async () => {
    const sha = h.commit({ "fork2.txt": "again\n" }, "pr-8");
    execFileSync("git", ["update-ref", "refs/pull/8/head", sha], { cwd: h.repo.dir });
    const [pr] = await h.runs.handleSourceEvent(
      h.repositoryId,
      {
        provider: "github",
        deliveryId: "d-8",
        event: "pull_request",
        action: "opened",
        ref: "refs/pull/8/head",
        commit: sha,
        baseRef: "refs/heads/main",
        repository: { fullName: "acme/app", cloneUrls: [h.repo.dir] },
        actor: "eve",
        pullRequest: {
          number: 8,
          headRef: "refs/heads/pr-8",
          headCloneUrls: [],
          fetchRef: "refs/pull/8/head",
          headRepository: "eve/app",
          authorAssociation: "FIRST_TIME_CONTRIBUTOR",
        },
        payload: { number: 8 },
      },
      "webhook",
    );
    assert.ok(pr);
    await h.runs.reject(pr.id, "maintainer");
    assert.equal(await events.tick(), 0);
    assert.deepEqual(await since(pr.id), []);
    const { rows } = await h.db.pool.query<{ a: number }>(
      `SELECT workflow_run_announced AS a FROM runs WHERE id = $1`,
      [pr.id],
    );
    assert.equal(rows[0]?.a, 3);
  });
});
