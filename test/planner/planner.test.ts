// Planner tests in-process over the fake provisioner: DAG order, job-level status semantics,
// fail-fast, max-parallel, and that every machine is destroyed, also on failure and cancel.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  HOST_ROOT,
  createFakeProvisioner,
  type Machine,
  type Provisioner,
} from "../../src/provisioners/index.js";
import { createActionLoader, createGitWorkspaceSource } from "../../src/actions/index.js";
import {
  createMachineExecutor,
  executeRun,
  type JobReport,
  type RunReport,
} from "../../src/planner/index.js";
import { parseWorkflow, type Workflow } from "../../src/workflow/index.js";
import { readRepo } from "../../src/git/index.js";
import { makeRepo, type TempRepo } from "../helpers/repo.js";

const repos: TempRepo[] = [];
after(() => repos.forEach((r) => r.remove()));

interface Counting extends Provisioner {
  created: number;
  destroyed: number;
  maxLive: number;
}

function countingProvisioner(): Counting {
  const inner = createFakeProvisioner();
  let live = 0;
  const p: Counting = {
    name: "counting",
    created: 0,
    destroyed: 0,
    maxLive: 0,
    async create(spec) {
      const m = await inner.create(spec);
      p.created++;
      live++;
      p.maxLive = Math.max(p.maxLive, live);
      let done = false;
      const wrapped: Machine = Object.create(m) as Machine;
      wrapped.destroy = async () => {
        if (!done) {
          done = true;
          p.destroyed++;
          live--;
        }
        await m.destroy();
      };
      return wrapped;
    },
  };
  return p;
}

async function run(
  yaml: string,
  opts: {
    maxParallelJobs?: number;
    abortAfterMs?: number;
    called?: string;
    secrets?: Record<string, string>;
    /** Changes the parsed workflow: what the parser would refuse can still reach the planner. */
    edit?: (w: Workflow) => void;
  } = {},
): Promise<{ report: RunReport; prov: Counting; byName: Record<string, JobReport>; keys: string[] }> {
  const repo = makeRepo({ ".github/workflows/w.yml": yaml });
  repos.push(repo);
  const parsed = parseWorkflow(".github/workflows/w.yml", yaml);
  assert.ok(parsed.workflow, JSON.stringify(parsed.problems));
  opts.edit?.(parsed.workflow);
  const info = await readRepo(repo.dir);
  const prov = countingProvisioner();
  const keys: string[] = [];
  const abort = new AbortController();
  if (opts.abortAfterMs !== undefined) setTimeout(() => abort.abort(), opts.abortAfterMs);
  const report = await executeRun({
    repo: info,
    fullName: "acme/repo",
    identity: { runId: "1", runNumber: 1, actor: "t", serverUrl: "https://github.com" },
    event: "push",
    payload: {},
    ref: "refs/heads/main",
    workflows: [parsed.workflow],
    inputs: {},
    vars: {},
    secrets: opts.secrets ?? {},
    executor: createMachineExecutor({
      provisioner: prov,
      actions: createActionLoader({ actionsUrl: "file:///nonexistent", cacheDir: `${repo.dir}/.cache` }),
      source: createGitWorkspaceSource(),
      maxParallelJobs: opts.maxParallelJobs ?? 4,
      platforms: {},
      // Fake machines are host processes: the root is not used.
      defaultRoot: HOST_ROOT,
    }),
    loadCalledWorkflow: (uses) => {
      const called =
        opts.called === undefined ? undefined : parseWorkflow(uses.replace(/^\.\//, ""), opts.called);
      return called?.workflow
        ? Promise.resolve(called.workflow)
        : Promise.reject(new Error("no such workflow"));
    },
    reporter: { jobStarted() {}, jobEvent() {}, jobFinished: (job) => keys.push(job.key) },
    signal: abort.signal,
  });
  return { report, prov, byName: Object.fromEntries(report.jobs.map((j) => [j.name, j])), keys };
}

const conclusions = (r: RunReport): Record<string, string> =>
  Object.fromEntries(r.jobs.map((j) => [j.name, j.conclusion]));

describe("planner", () => {
  it("skips dependants of a skipped job transitively, even past an always() job", async () => {
    const { report } = await run(`on: push
jobs:
  a:
    if: false
    runs-on: x
    steps: [{ run: "true" }]
  b:
    needs: a
    if: always()
    runs-on: x
    steps: [{ run: "true" }]
  c:
    needs: b
    runs-on: x
    steps: [{ run: "true" }]
`);
    assert.deepEqual(conclusions(report), { a: "skipped", b: "success", c: "skipped" });
  });

  it("an explicit success() is false at job level when a need was skipped (like the default if)", async () => {
    const { report } = await run(`on: push
jobs:
  a:
    if: false
    runs-on: x
    steps: [{ run: "true" }]
  b:
    needs: a
    if: success()
    runs-on: x
    steps: [{ run: "true" }]
  c:
    needs: a
    if: \${{ !failure() && !cancelled() }}
    runs-on: x
    steps: [{ run: "true" }]
  d:
    needs: a
    if: github.ref != 'success()'
    runs-on: x
    steps: [{ run: "true" }]
`);
    assert.deepEqual(conclusions(report), { a: "skipped", b: "skipped", c: "success", d: "skipped" });
  });

  it("never has more machines than the run allows, and destroys every one", async () => {
    const { report, prov } = await run(
      `on: push
jobs:
  m:
    runs-on: x
    strategy:
      matrix:
        n: [1, 2, 3, 4, 5, 6]
    steps: [{ run: "sleep 0.2" }]
`,
      { maxParallelJobs: 2 },
    );
    assert.equal(report.conclusion, "success");
    assert.equal(prov.created, 6);
    assert.equal(prov.destroyed, 6);
    assert.ok(prov.maxLive <= 2, `maxLive ${prov.maxLive}`);
  });

  it("respects max-parallel within a matrix", async () => {
    const { prov } = await run(`on: push
jobs:
  m:
    runs-on: x
    strategy:
      max-parallel: 1
      matrix:
        n: [1, 2, 3]
    steps: [{ run: "sleep 0.1" }]
`);
    assert.equal(prov.maxLive, 1);
    assert.equal(prov.destroyed, 3);
  });

  it("destroys machines of failed and cancelled jobs; cancellation stops the run", async () => {
    const { report, prov } = await run(
      `on: push
jobs:
  slow:
    runs-on: x
    steps: [{ run: "sleep 30" }]
  later:
    needs: slow
    runs-on: x
    steps: [{ run: "true" }]
  cleanup:
    needs: slow
    if: always()
    runs-on: x
    steps: [{ run: "echo cleaning" }]
  broken:
    runs-on: x
    steps: [{ run: "exit 1" }]
`,
      { abortAfterMs: 1500 },
    );
    const c = conclusions(report);
    assert.equal(c.slow, "cancelled");
    assert.equal(c.broken, "failure");
    assert.equal(c.later, "skipped");
    assert.equal(c.cleanup, "success");
    assert.equal(prov.created, prov.destroyed);
    assert.notEqual(report.conclusion, "success");
  });

  it("reports a bad matrix as a failed job without creating a machine", async () => {
    const { report, prov, byName } = await run(`on: push
jobs:
  m:
    runs-on: x
    strategy:
      matrix: \${{ fromJSON('{"include":[]}') }}
    steps: [{ run: "true" }]
`);
    assert.equal(report.conclusion, "failure");
    assert.equal(byName.m?.conclusion, "failure");
    assert.ok(byName.m?.error);
    assert.equal(prov.created, 0);
  });

  it("keeps the jobs of each matrix leg of a reusable-workflow caller apart (distinct keys)", async () => {
    const { report, keys } = await run(
      `on: push
jobs:
  call:
    strategy:
      matrix:
        n: [1, 2]
    uses: ./.github/workflows/called.yml
    with:
      n: \${{ matrix.n }}
`,
      {
        called: `on:
  workflow_call:
    inputs:
      n:
        type: number
        required: true
jobs:
  inner:
    runs-on: x
    steps: [{ run: "echo \${{ inputs.n }}" }]
`,
      },
    );
    assert.equal(report.conclusion, "success", JSON.stringify(report.jobs));
    assert.equal(report.jobs.filter((j) => j.id === "call/inner").length, 2);
    assert.equal(new Set(keys).size, keys.length, `duplicate keys: ${keys.join(", ")}`);
  });
  it("accepts environment: locally without protection rules; a name no environment may have fails the job", async () => {
    const { report, byName } = await run(`on: push
jobs:
  deploy:
    strategy:
      fail-fast: false
      matrix:
        target: [staging, "bad\\u0001name"]
    runs-on: x
    environment:
      name: \${{ matrix.target }}
      url: https://example.test/\${{ steps.s.outputs.where }}
    steps:
      - id: s
        run: echo "where=here" >> "$GITHUB_OUTPUT"
`);
    assert.equal(byName["deploy (staging)"]?.conclusion, "success", JSON.stringify(report));
    const bad = report.jobs.find((j) => j.name !== "deploy (staging)");
    assert.equal(bad?.conclusion, "failure");
    assert.match(bad?.error ?? "", /environment name .* is not valid/);
  });

  it("refuses secrets in a reusable-workflow call's with: and name:, and still passes them via secrets:", async () => {
    const called = `on:
  workflow_call:
    inputs:
      token: { type: string, required: false }
    secrets:
      t: { required: true }
jobs:
  inner:
    runs-on: x
    steps: [{ run: 'test "\${{ secrets.t }}" = s3cret-value && echo "got=\${{ inputs.token }}"' }]
`;
    const yaml = `on: push
jobs:
  call:
    uses: ./.github/workflows/called.yml
    with:
      token: plain
    secrets:
      t: \${{ secrets.TOKEN }}
`;
    const secrets = { TOKEN: "s3cret-value" };
    const ok = await run(yaml, { called, secrets });
    assert.equal(ok.report.conclusion, "success", JSON.stringify(ok.report.jobs));

    const leak = { called, secrets };
    for (const edit of [
      (w: Workflow) => (w.jobs[0]!.with = { token: "${{ secrets.TOKEN }}" }),
      (w: Workflow) => (w.jobs[0]!.name = "deploy ${{ secrets.TOKEN }}"),
    ]) {
      const { report, prov } = await run(yaml, { ...leak, edit });
      assert.equal(report.conclusion, "failure");
      assert.equal(report.jobs.length, 1, JSON.stringify(report.jobs));
      assert.match(
        report.jobs[0]?.error ?? "",
        /^job 'call': (with|name): .*'secrets' context is not available/,
      );
      assert.doesNotMatch(report.jobs[0]?.error ?? "", /\n/);
      assert.ok(!JSON.stringify(report).includes("s3cret-value"));
      assert.equal(prov.created, 0);
    }
  });
});
