// Validation-time warnings for features a workflow may use but Airlock does not honour: each names
// file:line:col, job warnings reach the job's log, and a workflow using none of them gets none.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseWorkflow } from "../../src/workflow/index.js";
import { makeRepo, runAirlock } from "../helpers/repo.js";

function warnings(yaml: string): Array<{ job?: string; text: string; localOnly?: boolean }> {
  const r = parseWorkflow(".github/workflows/w.yml", yaml);
  assert.deepEqual(r.problems, [], "the workflow is valid");
  return r.workflow?.warnings ?? [];
}

describe("workflow warnings", () => {
  it("says nothing about a workflow Airlock honours fully", () => {
    const yaml = [
      "on: [push, pull_request, workflow_dispatch, schedule]",
      "jobs:",
      "  a:",
      "    runs-on: ubuntu-latest",
      "    steps:",
      "      - uses: actions/checkout@v4",
      "      - run: echo ${{ secrets.NPM_TOKEN }} ${{ github.sha }}",
      "        env: { TOKENISH: '${{ github.tokens }}' }",
    ].join("\n");
    assert.deepEqual(warnings(yaml), []);
  });

  it("names events the server never starts runs for, at their position", () => {
    const w = warnings(
      "on:\n  push:\n  issues:\n    types: [opened]\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: true\n",
    );
    assert.equal(w.length, 1);
    assert.equal(w[0]!.job, undefined);
    assert.match(w[0]!.text, /^\.github\/workflows\/w\.yml:3:3: .*never starts runs for 'issues'/);
    const list = warnings(
      "on: [push, release, watch]\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: true\n",
    );
    assert.deepEqual(
      list.map((x) => x.text.split(": ")[0]),
      [".github/workflows/w.yml:1:12", ".github/workflows/w.yml:1:21"],
    );
  });

  it("names artifact and cache actions, refused container options and GITHUB_TOKEN per job", () => {
    const yaml = [
      "on: push",
      "jobs:",
      "  build:",
      "    runs-on: x",
      "    steps:",
      "      - uses: actions/cache@v4",
      "        with: { path: x, key: k }",
      "      - uses: actions/upload-artifact@v4",
      "        with: { name: a, path: x }",
      "      - run: gh api /user",
      "        env:",
      "          GH_TOKEN: ${{ secrets['github_token'] }}",
      "  deploy:",
      "    runs-on: x",
      "    container: node:20",
      "    services:",
      "      db:",
      "        image: postgres",
      "        options: --health-cmd pg_isready --privileged",
      "        volumes: [./data:/data, /etc:/etc, '${{ vars.V }}:/x']",
      "      ok: { image: redis, options: '${{ vars.OPTS }}' }",
      "      my_cache: redis",
      "    steps:",
      "      - uses: docker://alpine:3",
      "      - run: echo ${{ github.token }}",
    ].join("\n");
    const w = warnings(yaml);
    assert.deepEqual(
      w.map((x) => [x.job, x.text.split(": ")[0]]),
      [
        ["build", ".github/workflows/w.yml:6:15"],
        ["build", ".github/workflows/w.yml:8:15"],
        ["build", ".github/workflows/w.yml:12:21"],
        ["deploy", ".github/workflows/w.yml:19:18"],
        ["deploy", ".github/workflows/w.yml:20:33"],
        ["deploy", ".github/workflows/w.yml:22:7"],
        ["deploy", ".github/workflows/w.yml:25:14"],
      ],
    );
    assert.match(w[0]!.text, /cache service of an Airlock server: under `airlock run`/);
    assert.match(w[1]!.text, /artifact service of an Airlock server/);
    assert.deepEqual(
      w.map((x) => x.localOnly === true),
      [true, true, false, false, false, false, false],
    );
    assert.match(w[2]!.text, /GITHUB_TOKEN, which is empty/);
    assert.match(
      w[3]!.text,
      /service 'db': option --privileged is refused.*will fail unless its pool allows it/,
    );
    assert.match(w[4]!.text, /service 'db': volume .*host paths are not allowed/);
    assert.match(w[5]!.text, /service 'my_cache': a service name must be a DNS label/);
  });
});

describe("airlock run shows the warnings", () => {
  const repo = makeRepo({
    ".github/workflows/ci.yml": [
      "on: [push, issues]",
      "jobs:",
      "  a:",
      "    runs-on: ubuntu-latest",
      "    steps:",
      '      - run: test -z "$T"',
      "        env: { T: '${{ secrets.GITHUB_TOKEN }}' }",
    ].join("\n"),
  });
  after(() => repo.remove());

  it("the workflow's once on stderr, the job's at the top of its log", async () => {
    const r = await runAirlock(repo.dir, ["run", "push"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^airlock: warning: \.github\/workflows\/ci\.yml:1:12: .*'issues'/m);
    assert.equal((r.stderr.match(/'issues'/g) ?? []).length, 1);
    assert.match(r.stdout + r.stderr, /ci\.yml:7:\d+: job 'a' uses GITHUB_TOKEN/);
  });
});
