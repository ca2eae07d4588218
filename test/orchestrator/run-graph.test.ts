// A run keeps its workflow's job graph as planned (runs.graph, shown by GET /runs/:id): every job
// with what it needs, also the jobs whose rows do not exist yet because the run waits for
// approval — the web UI draws the graph from it. Real orchestrator, PostgreSQL and git repository;
// no agent (nothing needs to run).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { makeRepo, type TempRepo } from "../helpers/repo.js";
import { addRepository, startTestService, triggerRuns, type TestService } from "../helpers/service.js";

let t: TestService;
let repo: TempRepo;

before(async () => {
  t = await startTestService();
  repo = makeRepo({
    ".github/workflows/ci.yml": `name: CI
on: push
jobs:
  lint:
    name: Lint the code
    runs-on: debian-12
    steps: [{ run: "true" }]
  test:
    name: test \${{ matrix.n }}
    needs: lint
    runs-on: debian-12
    strategy: { matrix: { n: [1, 2] } }
    steps: [{ run: "true" }]
  deploy:
    needs: [lint, test]
    runs-on: debian-12
    steps: [{ run: "true" }]
`,
  });
});

after(async () => {
  await t?.stop();
  repo?.remove();
});

describe("run graph", () => {
  it("lists every job of the workflow with its needs before the jobs run", async () => {
    const repoId = await addRepository(t, "acme/graph", repo.dir);
    const [runId] = await triggerRuns(t, repoId);
    const r = await t.api<{ graph: unknown; jobs: Array<{ jobId: string }> }>("GET", `/api/v1/runs/${runId}`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.graph, [
      { id: "lint", name: "Lint the code", needs: [], calls: false },
      // A name that is an expression (one per matrix leg) shows as the job id.
      { id: "test", name: "test", needs: ["lint"], calls: false },
      { id: "deploy", name: "deploy", needs: ["lint", "test"], calls: false },
    ]);
    // Only the jobs that can run have rows yet: the graph holds the others.
    assert.ok(!r.body.jobs.some((j) => j.jobId === "deploy"), JSON.stringify(r.body.jobs));
  });

  it("is null for a workflow file that does not parse (its run has no jobs)", async () => {
    const bad = makeRepo({ ".github/workflows/ci.yml": "on: push\njobs:\n  a:\n    steps: 3\n" });
    try {
      const repoId = await addRepository(t, "acme/graph-bad", bad.dir);
      const [runId] = await triggerRuns(t, repoId);
      const r = await t.api<{ graph: unknown; state: string }>("GET", `/api/v1/runs/${runId}`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.state, "completed");
      assert.equal(r.body.graph, null);
    } finally {
      bad.remove();
    }
  });
});
