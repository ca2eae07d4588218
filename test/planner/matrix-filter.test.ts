// `airlock run --matrix k:v` in the planner (act's semantics): a leg runs when each of its keys
// that the filter names has one of the values given (as strings); keys the filter does not name
// and jobs without a matrix are not affected; a job left with no leg is skipped. Planned with the
// dry-run executor: no machine.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { executeRun, type RunReport } from "../../src/planner/index.js";
import { parseWorkflow } from "../../src/workflow/index.js";
import { readRepo } from "../../src/git/index.js";
import { createDryRunExecutor } from "../../src/cli/plan-view.js";
import { makeRepo } from "../helpers/repo.js";

const YAML = `on: push
jobs:
  build:
    runs-on: x
    strategy:
      matrix:
        os: [linux, mac]
        node: [18, 20]
        include:
          - os: win
            extra: true
    steps:
      - run: echo
  plain:
    runs-on: x
    steps:
      - run: echo
  tail:
    needs: build
    runs-on: x
    steps:
      - run: echo
`;
const repo = makeRepo({ ".github/workflows/w.yml": YAML });
after(() => repo.remove());

async function legs(matrixFilter?: Record<string, string[]>): Promise<RunReport> {
  const parsed = parseWorkflow(".github/workflows/w.yml", YAML);
  assert.ok(parsed.workflow, JSON.stringify(parsed.problems));
  const info = await readRepo(repo.dir);
  return executeRun({
    repo: info,
    fullName: "o/r",
    identity: { runId: "1", runNumber: 1, actor: "a", serverUrl: "https://github.com" },
    event: "push",
    payload: {},
    ref: "refs/heads/main",
    workflows: [parsed.workflow],
    inputs: {},
    vars: {},
    secrets: {},
    ...(matrixFilter ? { matrixFilter } : {}),
    executor: createDryRunExecutor(),
    loadCalledWorkflow: () => Promise.reject(new Error("none")),
    reporter: { jobStarted: () => undefined, jobEvent: () => undefined, jobFinished: () => undefined },
    signal: new AbortController().signal,
  });
}

const names = (r: RunReport): string[] => r.jobs.map((j) => `${j.name}:${j.conclusion}`).sort();

describe("--matrix in the planner", () => {
  it("without a filter, every leg", async () => {
    assert.equal((await legs()).jobs.filter((j) => j.id === "build").length, 5);
  });

  it("values of one key add up; numbers compare as strings; a leg without the key runs", async () => {
    const r = await legs({ os: ["mac", "win"], node: ["20"] });
    assert.deepEqual(names(r), [
      "build (mac, 20):success",
      "build (win, true):success",
      "plain:success",
      "tail:success",
    ]);
  });

  it("a job none of whose legs match is skipped, and so are the jobs that need it", async () => {
    const r = await legs({ os: ["bsd"] });
    assert.deepEqual(names(r), ["build:skipped", "plain:success", "tail:skipped"]);
  });
});
