// Reproducible inputs of real jobs (issue 13, items 6 and 7), in bubblewrap sandboxes: every step
// gets SOURCE_DATE_EPOCH = the commit's committer time (git's %ct) and the fixed workspace
// /airlock/workspace, with `airlock run` and on a server; a step's `env: SOURCE_DATE_EPOCH` wins.
// On the server the job's remote actions (a composite from a local action server, the one it
// calls, and one called by a local composite action of the repository) are resolved to commits by
// the orchestrator, and the artifact's signed provenance lists each at that commit.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { makeRepo, runAirlock, type TempRepo } from "../helpers/repo.js";
import { startTestService, type TestService } from "../helpers/service.js";
import { bundleAction, runGitHubRepository } from "../helpers/toolkit-job.js";
import { commitFiles, git, initRepo } from "../actions/helpers.js";

const here = dirname(fileURLToPath(import.meta.url));

const UPLOAD_YML = `name: artifact
inputs:
  op: { required: true }
  name: { required: true }
  path: { required: true }
runs:
  using: node20
  main: index.mjs
`;
// acme/stamp@v1 (a tag) calls acme/echo@main (a branch): both are resolved by the orchestrator.
const STAMP = `name: stamp
description: writes the build time into out/
runs:
  using: composite
  steps:
    - uses: acme/echo@main
    - run: mkdir -p out && echo "built at $SOURCE_DATE_EPOCH" > out/stamp.txt
      shell: bash
`;
const ECHO = `name: echo
description: says where it is
runs:
  using: composite
  steps:
    - run: echo "ECHO at [$SOURCE_DATE_EPOCH]"
      shell: bash
`;
// .github/actions/greet (a local composite in the repository) calls acme/greet@v1: pinned too.
const LOCAL_GREET = `name: local greet
runs:
  using: composite
  steps:
    - uses: acme/greet@v1
`;
const GREET = `name: greet
runs:
  using: composite
  steps:
    - run: echo "GREET from the pinned commit"
      shell: bash
`;

const STEPS = `      - run: echo "SDE=[$SOURCE_DATE_EPOCH] WS=[$GITHUB_WORKSPACE] PWD=[$PWD]"
      - env: { SOURCE_DATE_EPOCH: 5 }
        run: echo "OWN=[$SOURCE_DATE_EPOCH]"
      - run: echo "TS=[\${{ github.event.head_commit.timestamp }}]"
`;
const LOCAL = `on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n${STEPS}`;
const SERVER = `${LOCAL}      - uses: acme/stamp@v1
      - uses: ./.github/actions/greet
      - uses: ./.github/actions/artifact
        with: { op: upload, name: stamped, path: out }
`;

const show = (dir: string, format: string): string =>
  execFileSync("git", ["show", "-s", `--format=${format}`, "HEAD"], { cwd: dir, encoding: "utf8" }).trim();

let actionsBase: string;
let stampV1: string;
let echoMain: string;
let greetV1: string;
let t: TestService | undefined;
const repos: TempRepo[] = [];

before(() => {
  actionsBase = mkdtempSync(join(tmpdir(), "airlock-repro-actions-"));
  stampV1 = initRepo(join(actionsBase, "acme", "stamp"), { "action.yml": STAMP });
  git(join(actionsBase, "acme", "stamp"), "tag", "v1");
  echoMain = initRepo(join(actionsBase, "acme", "echo"), { "action.yml": ECHO });
  greetV1 = initRepo(join(actionsBase, "acme", "greet"), { "action.yml": GREET });
  git(join(actionsBase, "acme", "greet"), "tag", "v1");
});
after(async () => {
  await t?.stop();
  for (const r of repos) r.remove();
  rmSync(actionsBase, { recursive: true, force: true });
});

/** SOURCE_DATE_EPOCH is %ct, `env:` wins, the workspace is fixed, head_commit.timestamp is %cI. */
function expectEpoch(log: string, dir: string): void {
  const epoch = show(dir, "%ct");
  assert.match(
    log,
    new RegExp(`SDE=\\[${epoch}\\] WS=\\[/airlock/workspace\\] PWD=\\[/airlock/workspace\\]`),
    log,
  );
  assert.match(log, /OWN=\[5\]/, log);
  assert.ok(log.includes(`TS=[${show(dir, "%cI")}]`), log);
}

describe("reproducible builds", () => {
  it("airlock run: SOURCE_DATE_EPOCH is the commit's %ct, the workspace /airlock/workspace", async () => {
    const repo = makeRepo({ ".github/workflows/ci.yml": LOCAL });
    repos.push(repo);
    const machines = mkdtempSync(join(tmpdir(), "airlock-repro-machines-"));
    try {
      const r = await runAirlock(repo.dir, ["run", "push"], { AIRLOCK_MACHINES_DIR: machines });
      assert.equal(r.code, 0, r.stderr + r.stdout);
      expectEpoch(r.stdout + r.stderr, repo.dir);
    } finally {
      rmSync(machines, { recursive: true, force: true });
    }
  });

  it("server run: the same, and provenance lists each action at the commit the orchestrator resolved", async () => {
    t = await startTestService({}, { env: { AIRLOCK_ACTIONS_URL: `file://${actionsBase}` } });
    const repo = makeRepo({
      ".github/workflows/ci.yml": SERVER,
      ".github/actions/greet/action.yml": LOCAL_GREET,
      ".github/actions/artifact/action.yml": UPLOAD_YML,
      ".github/actions/artifact/index.mjs": await bundleAction(join(here, "artifacts", "action.js")),
    });
    repos.push(repo);
    const epoch = show(repo.dir, "%ct");
    // The node resolves nothing itself: it fetches the pinned commits from the same server.
    const run = await runGitHubRepositoryWithActions(t, repo.dir);
    const job = run.jobs[0]!;
    const log = (await t.api("GET", `/api/v1/jobs/${job.id}/logs`)).text;
    assert.equal(run.conclusion, "success", `${JSON.stringify(run)}\n${log}`);
    expectEpoch(log, repo.dir);
    assert.match(log, new RegExp(`ECHO at \\[${epoch}\\]`));
    assert.match(log, /GREET from the pinned commit/);

    // The job as queued carries the pins; the echo branch moving on afterwards changes nothing.
    commitFiles(join(actionsBase, "acme", "echo"), { "README.md": "later\n" }, "later");
    const { rows } = await t.db.pool.query<{ description: { resolvedActions: unknown } }>(
      `SELECT description FROM jobs WHERE id = $1`,
      [job.id],
    );
    const url = (r: string): string => `file://${actionsBase}/acme/${r}`;
    assert.deepEqual(rows[0]!.description.resolvedActions, [
      { name: "acme/stamp", ref: "v1", commit: stampV1, url: url("stamp") },
      { name: "acme/echo", ref: "main", commit: echoMain, url: url("echo") },
      { name: "acme/greet", ref: "v1", commit: greetV1, url: url("greet") },
    ]);

    const listed = await t.api<Array<{ id: number; name: string }>>(
      "GET",
      `/api/v1/runs/${run.id}/artifacts`,
    );
    const artifact = listed.body.find((a) => a.name === "stamped");
    assert.ok(artifact, listed.text);
    const prov = await t.api<{ payload: string }>(
      "GET",
      `/api/v1/runs/${run.id}/artifacts/${artifact.id}/provenance`,
    );
    assert.equal(prov.status, 200, prov.text);
    const statement = JSON.parse(Buffer.from(prov.body.payload, "base64").toString()) as {
      predicate: { buildDefinition: { resolvedDependencies: unknown[] } };
    };
    const deps = statement.predicate.buildDefinition.resolvedDependencies;
    assert.equal(deps.length, 4, JSON.stringify(deps));
    // The source as the repository is fetched (a local path here), not a github.com guess.
    assert.match((deps[0] as { uri: string }).uri, /^git\+file:\/\/\//);
    assert.deepEqual(deps.slice(1), [
      { name: "acme/stamp", uri: `git+${url("stamp")}@v1`, digest: { gitCommit: stampV1 } },
      { name: "acme/echo", uri: `git+${url("echo")}@main`, digest: { gitCommit: echoMain } },
      { name: "acme/greet", uri: `git+${url("greet")}@v1`, digest: { gitCommit: greetV1 } },
    ]);
  });

  it("server run: an action the orchestrator cannot resolve fails the job before it is queued", async () => {
    const repo = makeRepo({
      ".github/workflows/ci.yml": `on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: acme/nope@v1\n`,
    });
    repos.push(repo);
    const r = await t!.api<{ id: number }>("POST", "/api/v1/repositories", {
      name: "acme/nope-user",
      cloneUrl: repo.dir,
    });
    assert.equal(r.status, 201, r.text);
    const trig = await t!.api<{ runs: Array<{ id: number }> }>(
      "POST",
      `/api/v1/repositories/${r.body.id}/runs`,
      {},
    );
    assert.equal(trig.status, 201, trig.text);
    // No node is needed: the job never reaches the queue.
    const run = await t!.waitRun(trig.body.runs[0]!.id);
    assert.equal(run.conclusion, "failure", JSON.stringify(run));
    const { rows } = await t!.db.pool.query<{ state: string; error: string | null; node_id: string | null }>(
      `SELECT state, error, node_id FROM jobs WHERE run_id = $1`,
      [run.id],
    );
    assert.equal(rows.length, 1, JSON.stringify(rows));
    assert.equal(rows[0]!.node_id, null);
    assert.match(rows[0]!.error ?? "", /acme\/nope/);
  });
});

/** runGitHubRepository with a node that fetches actions from the local action server. */
async function runGitHubRepositoryWithActions(s: TestService, cloneUrl: string) {
  const startAgent = s.startAgent.bind(s);
  const withActions: TestService = {
    ...s,
    startAgent: (token, opts) => startAgent(token, { ...opts, actionsUrl: `file://${actionsBase}` }),
  };
  return runGitHubRepository(withActions, { name: "acme/repro", cloneUrl, node: "node-repro" });
}
