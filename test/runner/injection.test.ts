// Script injection (src/runner/injection.ts) in a real sandbox: a pull request title, a commit
// message and a branch name carrying `$(...)`, backticks, `;` and a line break. In a trusted run
// they are spliced as GitHub does (and the job is warned, with the fix); in an untrusted run they
// reach the script as variables — nothing they say runs, and a line break written to $GITHUB_ENV
// or $GITHUB_OUTPUT does not add a second entry.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { injectionWarnings, protectValues, spliceAsEnv, untrustedPaths } from "../../src/runner/injection.js";
import { scanTemplate } from "../../src/expressions/index.js";
import type { JobDescription, RunnerEvent } from "../../src/runner/index.js";
import { destroyMachines, jobFromWorkflow, run } from "./helpers.js";

const empty = mkdtempSync(path.join(tmpdir(), "airlock-inject-"));
after(async () => {
  await destroyMachines();
  rmSync(empty, { recursive: true, force: true });
});

const TITLE = "Fix $(touch /tmp/pwned-title) `touch /tmp/pwned-tick`; touch /tmp/pwned-semi";
const MESSAGE = "Refactor\nINJECTED=yes\nLD_PRELOAD=/tmp/evil.so";
const BRANCH = "feature/$(touch${IFS}/tmp/pwned-branch)";

const WORKFLOW = `on: pull_request
jobs:
  greet:
    runs-on: ubuntu-latest
    steps:
      - name: Greet
        id: greet
        run: |
          echo "title: \${{ github.event.pull_request.title }}"
          echo "branch: \${{ github.head_ref }}"
          echo "MSG=\${{ github.event.head_commit.message }}" >> "$GITHUB_ENV"
          echo "msg=\${{ github.event.head_commit.message }}" >> "$GITHUB_OUTPUT"
          echo "plain: \${{ format('{0}-{1}', 1, 2) }}"
      - name: After
        run: |
          for f in /tmp/pwned-title /tmp/pwned-tick /tmp/pwned-semi /tmp/pwned-branch; do
            if [ -e "$f" ]; then echo "RAN $f"; fi
          done
          echo "injected=\${INJECTED:-unset}"
          echo "preload=\${LD_PRELOAD:-unset}"
          printf 'msg lines: %s\\n' "$(printf '%s' "$MSG" | wc -l)"
`;

function job(tier: "trusted" | "untrusted", title = TITLE): JobDescription {
  const j = jobFromWorkflow("ci.yml", WORKFLOW);
  j.contexts.github = {
    ...j.contexts.github,
    event_name: "pull_request",
    head_ref: BRANCH,
    event: { pull_request: { title }, head_commit: { message: MESSAGE } },
  };
  return { ...j, trustTier: tier };
}

function lines(events: RunnerEvent[]): string[] {
  return events.flatMap((e) => (e.type === "log" && e.stream !== "system" ? [e.text] : []));
}
function warnings(events: RunnerEvent[]): string[] {
  return events.flatMap((e) => (e.type === "annotation" && e.level === "warning" ? [e.message] : []));
}

describe("script injection", () => {
  it("an untrusted run passes expressions as variables: nothing runs, line breaks stay data", async () => {
    // An unbalanced quote cannot end the string either.
    const r = await run(job("untrusted", `${TITLE} "quoted`), empty, undefined, "sandbox");
    const out = lines(r.events);
    assert.equal(r.result.conclusion, "success", out.join("\n"));
    assert.ok(out.includes(`title: ${TITLE} "quoted`), out.join("\n"));
    assert.ok(out.includes(`branch: ${BRANCH}`), out.join("\n"));
    assert.ok(out.includes("plain: 1-2"));
    assert.ok(!out.some((l) => l.startsWith("RAN ")), out.join("\n"));
    assert.ok(out.includes("injected=unset") && out.includes("preload=unset"), out.join("\n"));
    assert.ok(out.includes("msg lines: 2"), "MSG kept its line breaks as one value");
    assert.equal(r.result.steps[0]?.outputs.msg, MESSAGE);
    assert.equal(warnings(r.events).length, 1, "the job is warned too");
  });

  it("a trusted run splices as GitHub does, and is warned with the fix", async () => {
    const r = await run(job("trusted"), empty, undefined, "sandbox");
    const out = lines(r.events);
    assert.ok(
      out.some((l) => l.startsWith("RAN ")),
      `spliced as on GitHub:\n${out.join("\n")}`,
    );
    assert.ok(out.includes("injected=yes"), "the line break added a variable, as on GitHub");
    const [w] = warnings(r.events);
    assert.match(
      w ?? "",
      /^step "Greet": \$\{\{ github\.event\.pull_request\.title \}\}, \$\{\{ github\.head_ref \}\}/,
    );
    assert.match(w ?? "", /env: TITLE: \$\{\{ github\.event\.pull_request\.title \}\}\) and use "\$TITLE"/);
  });

  it("an untrusted python script with expressions fails with the fix", async () => {
    const j = jobFromWorkflow(
      "py.yml",
      "on: push\njobs:\n  p:\n    runs-on: x\n    steps:\n      - shell: python\n        run: print('${{ github.sha }}')\n",
    );
    const r = await run({ ...j, trustTier: "untrusted" }, empty);
    assert.equal(r.result.conclusion, "failure");
    const errors = r.events.flatMap((e) =>
      e.type === "annotation" && e.level === "error" ? [e.message] : [],
    );
    assert.match(errors.join("\n"), /untrusted: .*move them to the step's env:/);
  });

  it("recognises untrusted paths in their other spellings", () => {
    assert.deepEqual(untrustedPaths("github.event['pull_request'].title"), [
      "github.event.pull_request.title",
    ]);
    assert.deepEqual(untrustedPaths("github.event.commits[0].message"), ["github.event.commits.*.message"]);
    assert.deepEqual(untrustedPaths("toJSON(github.event.head_commit)"), ["github.event.head_commit"]);
    assert.deepEqual(untrustedPaths("toJSON(github.event)"), ["github.event"]);
    assert.deepEqual(untrustedPaths("github.event.pull_request.number"), []);
    assert.deepEqual(untrustedPaths("github.sha || github.ref"), []);
    assert.deepEqual(injectionWarnings([{ run: "echo ${{ github.event.pull_request.number }}" }]), []);
    assert.deepEqual(injectionWarnings([{ uses: "x/y@v1", with: { a: "${{ github.head_ref }}" } }]), []);
  });

  it("splices and protects", () => {
    const s = spliceAsEnv(scanTemplate("a ${{ x }} b ${{ y }}").segments, true, (e) => `<${e}>`);
    assert.deepEqual(s, {
      script: "a ${AIRLOCK_EXPR_1} b ${AIRLOCK_EXPR_2}",
      env: { AIRLOCK_EXPR_1: "<x>", AIRLOCK_EXPR_2: "<y>" },
    });
    assert.equal(spliceAsEnv(scanTemplate("a ${{ x }}").segments, false, String), undefined);
    assert.deepEqual(spliceAsEnv(scanTemplate("plain").segments, false, String), {
      script: "plain",
      env: {},
    });
    const p = protectValues("A=1\nB=x\nC=2\nD=3\n", ["x\nC=2", "single"]);
    assert.ok(!p.text.includes("C=2"));
    assert.equal(p.restore(p.text), "A=1\nB=x\nC=2\nD=3\n");
  });
});
