// Caches in real jobs on a server run: the real `@actions/cache` client (bundled into a JavaScript
// action in the job's repository) saves in one job in a bubblewrap sandbox and restores in the
// next, through each machine's job services and the agent to the orchestrator's cache service
// (the client runs tar itself, inside the machine). Checks: a restore-key match brings the bytes
// back identical; the entry is recorded in the run's scope (trusted, its ref).
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { makeRepo, type TempRepo } from "../helpers/repo.js";
import { startTestService, type TestService } from "../helpers/service.js";
import { bundleAction, runGitHubRepository } from "../helpers/toolkit-job.js";

const here = dirname(fileURLToPath(import.meta.url));

const ACTION_YML = `name: cache
inputs:
  op: { required: true }
  key: { required: true }
  restore-keys: { required: false, default: "" }
  path: { required: true }
runs:
  using: node20
  main: index.mjs
`;

const WORKFLOW = `on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: |
          mkdir -p deps/sub
          echo "hello caches" > deps/a.txt
          head -c 2000000 /dev/urandom > deps/sub/big.bin
          (cd deps && sha256sum a.txt sub/big.bin)
      - uses: ./.github/actions/cache
        with:
          op: save
          key: deps-\${{ github.sha }}
          path: deps
  check:
    needs: build
    runs-on: ubuntu-latest
    steps:
      - uses: ./.github/actions/cache
        with: { op: restore, key: deps-none, restore-keys: deps-, path: deps }
      - run: (cd deps && sha256sum a.txt sub/big.bin)
`;

let t: TestService;
let repo: TempRepo;
before(async () => {
  t = await startTestService();
});
after(async () => {
  await t?.stop();
  repo?.remove();
});

describe("caches in real jobs", () => {
  it("save in one job, restore by restore key in the next, through the job services", async () => {
    repo = makeRepo({
      ".github/workflows/ci.yml": WORKFLOW,
      ".github/actions/cache/action.yml": ACTION_YML,
      ".github/actions/cache/index.mjs": await bundleAction(join(here, "caches", "action.js")),
    });
    const run = await runGitHubRepository(t, { name: "acme/cached", cloneUrl: repo.dir, node: "node-cache" });
    const job = (name: string) => run.jobs.find((j) => j.name === name)!;
    const buildLog = (await t.api("GET", `/api/v1/jobs/${job("build").id}/logs`)).text;
    const checkLog = (await t.api("GET", `/api/v1/jobs/${job("check").id}/logs`)).text;
    assert.equal(run.conclusion, "success", `${JSON.stringify(run)}\n${buildLog}\n${checkLog}`);
    assert.match(buildLog, /saved cache entry \d+/);
    assert.match(checkLog, /restored cache deps-[0-9a-f]{40}/);
    const sums = (log: string): string[] =>
      log
        .split("\n")
        .filter((l) => / (a\.txt|sub\/big\.bin)$/.test(l))
        .map((l) => l.replace(/^.*\| /, "").trim());
    assert.equal(sums(checkLog).length, 2, checkLog);
    assert.deepEqual(sums(checkLog), sums(buildLog));
    const { rows } = await t.db.pool.query<{ trust_tier: string; ref: string; state: string }>(
      "SELECT trust_tier, ref, state FROM cache_entries",
    );
    assert.deepEqual(rows, [{ trust_tier: "trusted", ref: "refs/heads/main", state: "finalized" }]);
  });
});
