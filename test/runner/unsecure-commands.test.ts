// ACTIONS_ALLOW_UNSECURE_COMMANDS (src/runner/output.ts): where the opt-in is read (workflow, job
// and step env, GITHUB_ENV; "true" in any case only, as C#'s bool.TryParse reads it), and that an
// untrusted run never honours it and says why.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import type { JobDescription } from "../../src/runner/index.js";
import { destroyMachines, jobFromWorkflow, run, stepAnnotations, stepLogs } from "./helpers.js";

const empty = mkdtempSync(path.join(tmpdir(), "airlock-unsecure-"));
after(async () => {
  await destroyMachines();
  rmSync(empty, { recursive: true, force: true });
});

/** A job whose step `set` prints set-env/add-path and whose step `check` prints what it got. */
function job(opts: {
  workflowEnv?: string;
  jobEnv?: string;
  stepEnv?: string;
  before?: string;
}): JobDescription {
  const yaml = `on: push
${opts.workflowEnv ? `env: { ACTIONS_ALLOW_UNSECURE_COMMANDS: "${opts.workflowEnv}" }` : ""}
jobs:
  build:
    runs-on: ubuntu-latest
    ${opts.jobEnv ? `env: { ACTIONS_ALLOW_UNSECURE_COMMANDS: "${opts.jobEnv}" }` : ""}
    steps:
      - id: before
        run: ${opts.before ?? "true"}
      - id: set
        continue-on-error: true
        ${opts.stepEnv ? `env: { ACTIONS_ALLOW_UNSECURE_COMMANDS: "${opts.stepEnv}" }` : ""}
        run: |
          echo "::set-env name=FOO::bar"
          echo "::add-path::/opt/p"
      - id: check
        run: echo "foo=\${FOO:-unset} path=\${PATH%%:*}"
`;
  return jobFromWorkflow("unsecure.yml", yaml);
}

async function outcome(j: JobDescription): Promise<{ set: string; check: string; errors: string[] }> {
  const { result, events } = await run(j, empty);
  const set = result.steps.find((s) => s.id === "set");
  const check = result.steps.find((s) => s.id === "check");
  assert.ok(set && check);
  const line = stepLogs(events, check.index).find((l) => l.text.startsWith("foo="));
  return {
    set: set.outcome,
    check: line?.text ?? "",
    errors: stepAnnotations(events, set.index)
      .filter((a) => a.level === "error")
      .map((a) => a.message),
  };
}

const HONOURED = { set: "success", check: "foo=bar path=/opt/p", errors: [] };

for (const [where, opts] of [
  ["workflow env", { workflowEnv: "true" }],
  ["job env", { jobEnv: "true" }],
  ["step env", { stepEnv: "true" }],
  ["step env, any case and spaces", { stepEnv: " True " }],
  [
    "GITHUB_ENV of an earlier step",
    { before: 'echo "ACTIONS_ALLOW_UNSECURE_COMMANDS=true" >> "$GITHUB_ENV"' },
  ],
] as const) {
  void test(`the opt-in in ${where} honours set-env and add-path`, async () => {
    assert.deepEqual(await outcome(job(opts)), HONOURED);
  });
}

for (const [why, opts] of [
  ["without the opt-in", {}],
  ['with "1" (not a boolean to the runner)', { jobEnv: "1" }],
  ["when the step's env turns it off", { jobEnv: "true", stepEnv: "false" }],
] as const) {
  void test(`set-env and add-path fail the step ${why}`, async () => {
    const r = await outcome(job(opts));
    assert.equal(r.set, "failure");
    assert.equal(r.check, "foo=unset path=/usr/local/sbin");
    assert.ok(
      r.errors.some(
        (m) =>
          m.startsWith("The `set-env` command is disabled.") && m.includes("ACTIONS_ALLOW_UNSECURE_COMMANDS"),
      ),
      JSON.stringify(r.errors),
    );
  });
}

void test("an untrusted run ignores the opt-in and says why", async () => {
  const r = await outcome({ ...job({ jobEnv: "true" }), trustTier: "untrusted" });
  assert.equal(r.set, "failure");
  assert.equal(r.check, "foo=unset path=/usr/local/sbin");
  assert.ok(
    r.errors.some((m) => /ACTIONS_ALLOW_UNSECURE_COMMANDS is ignored in untrusted runs/.test(m)),
    JSON.stringify(r.errors),
  );
  // The same job, trusted, is honoured: the refusal is the tier's doing.
  assert.deepEqual(await outcome({ ...job({ jobEnv: "true" }), trustTier: "trusted" }), HONOURED);
});
