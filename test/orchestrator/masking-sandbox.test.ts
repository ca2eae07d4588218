// End to end through a real bubblewrap sandbox: a job prints its secret the ways a careless (or
// clever) step would — `echo $SECRET | base64` (wrapped at 76 columns), `printf %s "$SECRET" | xxd -p`
// (wrapped at 60), double base64, split across two writes with stderr in between, split by a colour
// code — and registers a value of its own with ::add-mask::. The log the orchestrator stores holds
// none of it, and the job's "Job success" line cannot pass for Airlock's.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import type { TempRepo } from "../helpers/repo.js";
import { startTestService, type TestService } from "../helpers/service.js";
import { queuedJobWithSecrets } from "./mask-helpers.js";

// Long enough that base64 and xxd wrap it over several lines.
const SECRET = "e2e-Secret-4f9c2a7d81b3e6f0a5c9d2b7e4f1a8c3d6b9e2f5a8c1d4b7e0f3a6c9d2";
/** Made at run time, so the workflow's text (shown in the log) does not hold it. */
const DYNAMIC = "DYNAMIC-VALUE-1234";
// xxd is not in every image: od prints the same plain hex dump (60 characters a line).
const HEX = `{ command -v xxd >/dev/null && xxd -p || { od -An -tx1 -v | tr -d ' \\n' | fold -w60; echo; }; }`;
const WORKFLOW = `on: push
jobs:
  leak:
    runs-on: ubuntu-latest
    steps:
      - env:
          SECRET: \${{ secrets.TOKEN }}
        run: |
          echo "$SECRET" | base64
          printf %s "$SECRET" | ${HEX}
          printf %s "$SECRET" | base64 -w0 | base64 -w0; echo
          printf 'split %s' "\${SECRET:0:10}"; printf 'between\\n' >&2; printf '%s\\n' "\${SECRET:10}"
          printf 'colour %s\\033[31m%s\\033[0m\\n' "\${SECRET:0:7}" "\${SECRET:7}"
          v="$(echo dynamic-value | tr a-z A-Z)-1234"
          echo "::add-mask::$v"
          echo "later $v $(printf %s "$v" | base64)"
          echo "Job success"
`;

let t: TestService;
const repos: TempRepo[] = [];
before(async () => {
  t = await startTestService();
});
after(async () => {
  await t.stop();
  repos.forEach((r) => r.remove());
});

/** What the host's tools print for the secret: no 8 characters of it may be in the stored log. */
function printed(): string[] {
  const sh = (script: string): string =>
    execFileSync("bash", ["-c", script, "bash", SECRET], { encoding: "utf8" });
  return [
    ...sh('echo "$1" | base64').split("\n"),
    ...sh('printf %s "$1" | od -An -tx1 -v | tr -d " \\n" | fold -w60').split("\n"),
    sh('printf %s "$1" | base64 -w0 | base64 -w0'),
  ].filter((l) => l.length >= 8);
}

describe("masking in a real sandbox", () => {
  it("stores none of the secret's forms, and the job's lines as the job's", async () => {
    const { runId, jobId } = await queuedJobWithSecrets(t, repos, WORKFLOW, { TOKEN: SECRET });
    await t.startAgent(await t.addNode("node-mask"));
    const run = await t.waitRun(runId, 120_000);
    assert.equal(run.conclusion, "success", JSON.stringify(run));
    const log = (await t.api("GET", `/api/v1/jobs/${jobId}/logs`)).text;
    for (const form of [SECRET, DYNAMIC, ...printed()]) {
      for (let i = 0; i + 8 <= form.length; i++) {
        const w = form.slice(i, i + 8);
        assert.ok(
          !log.includes(w),
          `${JSON.stringify(w)} (of ${form.slice(0, 30)}…) is in the stored log:\n${log}`,
        );
      }
    }
    const lines = log.split("\n");
    assert.ok(lines.includes("  | split ***"), log);
    assert.ok(
      lines.some((l) => l.startsWith("  | colour ***")),
      log,
    );
    assert.ok(lines.includes("  | later *** ***"), log);
    assert.deepEqual(
      lines.filter((l) => l === "Job success"),
      ["Job success"],
      "one, Airlock's",
    );
    assert.ok(lines.includes("  | Job success"), log);
  });
});
