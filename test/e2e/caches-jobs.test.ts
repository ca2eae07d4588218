// Caches in real jobs on a server run: the real `@actions/cache` client (bundled into a JavaScript
// action in the job's repository) saves in one job in a bubblewrap sandbox and restores in the
// next, through each machine's job services and the agent to the orchestrator's cache service
// (the client runs tar itself, inside the machine). Checks: a restore-key match brings the bytes
// back identical; the entry is recorded in the run's scope (trusted, its ref).
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { build } from "esbuild";
import { makeRepo, type TempRepo } from "../helpers/repo.js";
import { startTestService, type TestService } from "../helpers/service.js";

const here = dirname(fileURLToPath(import.meta.url));

async function bundledAction(): Promise<string> {
  const out = await build({
    entryPoints: [join(here, "caches", "action.js")],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    write: false,
    logLevel: "silent",
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
  });
  return out.outputFiles[0]!.text;
}

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
      ".github/actions/cache/index.mjs": await bundledAction(),
    });
    const r = await t.api<{ id: number }>("POST", "/api/v1/repositories", {
      name: "acme/cached",
      cloneUrl: repo.dir,
    });
    assert.equal(r.status, 201, r.text);
    // A GitHub repository: GITHUB_SERVER_URL is github.com, as the cache client requires for v2.
    const forge = await t.api("PUT", `/api/v1/repositories/${r.body.id}/forge`, { kind: "github" });
    assert.equal(forge.status, 200, forge.text);
    const trig = await t.api<{ runs: Array<{ id: number }> }>(
      "POST",
      `/api/v1/repositories/${r.body.id}/runs`,
      {},
    );
    assert.equal(trig.body.runs?.length, 1, trig.text);
    await t.startAgent(await t.addNode("node-cache"));
    const run = await t.waitRun(trig.body.runs[0]!.id, 240_000);
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
