// The job user as a step sees it in a real sandbox on the host root (where the host's passwd has
// no such user): a name for its uid, $HOME that user's existing, writable home, $SHELL its shell.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { destroyMachines, jobFromWorkflow, run, stepLogs } from "./helpers.js";

const empty = mkdtempSync(path.join(tmpdir(), "airlock-user-"));
after(async () => {
  await destroyMachines();
  rmSync(empty, { recursive: true, force: true });
});

void test("a step runs as the passwd user runner, with its home and shell (sandbox, host root)", async () => {
  const job = jobFromWorkflow(
    "user.yml",
    `on: push
jobs:
  user:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo "user=$(whoami)/$(id -un)/$(id -gn)"
          echo "entry=$(getent passwd "$(id -u)")"
          echo "env=$HOME|$SHELL"
          touch "$HOME/probe" && echo home-writable
`,
  );
  const { result, events, machine } = await run(job, empty, undefined, "sandbox");
  assert.equal(result.conclusion, "success");
  const lines = stepLogs(events, 0)
    .filter((l) => l.stream === "stdout")
    .map((l) => l.text);
  const home = machine.paths.home;
  assert.deepEqual(lines, [
    "user=runner/runner/runner",
    `entry=runner:x:1001:1001:Airlock runner:${home}:/bin/bash`,
    `env=${home}|/bin/bash`,
    "home-writable",
  ]);
});
