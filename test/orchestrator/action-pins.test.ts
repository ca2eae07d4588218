// The orchestrator pins the remote actions that local composite actions call (src/actions/pins.ts
// via the driver): a real service over a real database, the workflow repository read from its own
// mirror at the run's commit, remote actions from a file:// actions URL. No node is started: the
// job waits in the queue, and its stored description is what a node would get and provenance
// would list. A local path that is not in the repository, or has a broken manifest, does not stop
// the job from being queued.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { commitFiles, git, initRepo, rmDir, tempDir } from "../actions/helpers.js";
import { makeRepo, type TempRepo } from "../helpers/repo.js";
import { eventually, startTestService, type TestService } from "../helpers/service.js";

const composite = (...uses: string[]): string =>
  `name: c\ndescription: calls others\nruns:\n  using: composite\n  steps:\n${uses
    .map((u) => `    - uses: ${u}\n`)
    .join("")}    - run: echo hi\n      shell: bash\n`;

const WORKFLOW = `on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: ./.github/actions/build
      - uses: ./made-at-runtime
`;

let actions: string;
let toolV1: string;
let libMain: string;
let t: TestService | undefined;
let repo: TempRepo | undefined;

before(() => {
  actions = tempDir("airlock-pins-actions-");
  toolV1 = initRepo(join(actions, "acme", "tool"), { "action.yml": composite("acme/lib@main") });
  git(join(actions, "acme", "tool"), "tag", "v1");
  libMain = initRepo(join(actions, "acme", "lib"), { "action.yml": composite() });
});

after(async () => {
  await t?.stop();
  repo?.remove();
  rmDir(actions);
});

void test("a job's local composite actions are walked: the remote actions they call are pinned", async () => {
  t = await startTestService({}, { env: { AIRLOCK_ACTIONS_URL: `file://${actions}` } });
  repo = makeRepo({
    ".github/workflows/ci.yml": WORKFLOW,
    ".github/actions/build/action.yml": composite("./.github/actions/inner", "./.github/actions/broken"),
    ".github/actions/inner/action.yml": composite("acme/tool@v1"),
    ".github/actions/broken/action.yml": "runs: [not, a, manifest]\n",
  });
  const r = await t.api<{ id: number }>("POST", "/api/v1/repositories", {
    name: "acme/local-pins",
    cloneUrl: repo.dir,
  });
  assert.equal(r.status, 201, r.text);
  const trig = await t.api<{ runs: Array<{ id: number }> }>(
    "POST",
    `/api/v1/repositories/${r.body.id}/runs`,
    {},
  );
  assert.equal(trig.status, 201, trig.text);
  const runId = trig.body.runs[0]!.id;
  const job = await eventually(async () => {
    const { rows } = await t!.db.pool.query<{ state: string; description: { resolvedActions?: unknown } }>(
      `SELECT state, description FROM jobs WHERE run_id = $1`,
      [runId],
    );
    return rows[0];
  }, "the job to be queued");
  // Pinned when queued: the branch moving on afterwards changes nothing.
  commitFiles(join(actions, "acme", "lib"), { "README.md": "later\n" }, "later");
  assert.equal(job.state, "queued");
  const url = (name: string): string => `file://${actions}/acme/${name}`;
  assert.deepEqual(job.description.resolvedActions, [
    { name: "acme/tool", ref: "v1", commit: toolV1, url: url("tool") },
    { name: "acme/lib", ref: "main", commit: libMain, url: url("lib") },
  ]);
});
