// End-to-end: remote actions and reusable workflows fetched with git from a file:// action source,
// and docker actions refused with a clear error.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { makeRepo, runAirlock, type TempRepo } from "../helpers/repo.js";

const repos: TempRepo[] = [];
const base = mkdtempSync(join(tmpdir(), "airlock-actions-src-"));
after(() => {
  repos.forEach((r) => r.remove());
  rmSync(base, { recursive: true, force: true });
});

interface JsonDoc {
  jobs: Array<{ id: string; name: string; conclusion: string; error?: string }>;
}

void describe("remote actions", () => {
  void it("fetches owner/repo@ref actions and reusable workflows from the action source", async () => {
    const action = makeRepo({
      "action.yml": `name: hello
inputs:
  who:
    default: world
runs:
  using: composite
  steps:
    - run: echo "remote action greets \${{ inputs.who }}"
      shell: bash
`,
      "sub/action.yml": `name: sub
runs:
  using: composite
  steps:
    - run: echo "nested path action ran"
      shell: sh
`,
      ".github/workflows/shared.yml": `on:
  workflow_call:
    inputs:
      n:
        type: number
        required: true
jobs:
  inner:
    runs-on: ubuntu-latest
    steps:
      - run: echo "remote reusable got \${{ inputs.n }}"
`,
    });
    repos.push(action);
    execFileSync("git", ["tag", "v1"], { cwd: action.dir });
    execFileSync("mkdir", ["-p", join(base, "acme")]);
    execFileSync("git", ["clone", "-q", "--bare", action.dir, join(base, "acme", "hello")]);

    const repo = makeRepo({
      ".github/workflows/w.yml": `on: push
jobs:
  use:
    runs-on: ubuntu-latest
    steps:
      - uses: acme/hello@v1
        with:
          who: airlock
      - uses: acme/hello/sub@v1
  call:
    uses: acme/hello/.github/workflows/shared.yml@v1
    with:
      n: 42
  docker:
    runs-on: ubuntu-latest
    steps:
      - uses: docker://alpine:3
`,
    });
    repos.push(repo);
    const res = await runAirlock(repo.dir, ["run", "--json", "--actions-url", `file://${base}`]);
    const doc = JSON.parse(res.stdout) as JsonDoc;
    const byName = Object.fromEntries(doc.jobs.map((j) => [j.name, j.conclusion]));
    assert.deepEqual(
      byName,
      { use: "success", "call / inner": "success", call: "success", docker: "failure" },
      res.stderr,
    );
    assert.ok(res.stderr.includes("remote action greets airlock"), res.stderr);
    assert.ok(res.stderr.includes("nested path action ran"), res.stderr);
    assert.ok(res.stderr.includes("remote reusable got 42"), res.stderr);
    assert.ok(res.stderr.includes("not supported by this provisioner"), res.stderr);
    assert.equal(res.code, 1);
  });
});
