// SOURCE_DATE_EPOCH in every step's process (reproducible builds, issue 13 item 6): the job's
// commit time by default; a workflow, job or step `env:`, or GITHUB_ENV, sets its own and wins; a
// job without a known commit time gets none. Real processes on fake-provisioner machines.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { destroyMachines, jobFromWorkflow, run, stepLogs } from "./helpers.js";

after(destroyMachines);

const PRINT = `run: echo "SDE=[\${SOURCE_DATE_EPOCH-unset}]"`;

function workflow(workflowEnv: string, jobEnv: string, steps: string): string {
  return `name: t\non: push\n${workflowEnv}jobs:\n  build:\n    runs-on: ubuntu-latest\n${jobEnv}    steps:\n${steps}`;
}

async function printed(content: string, commitTime: number | undefined): Promise<string[]> {
  const job = jobFromWorkflow("sde.yml", content);
  if (commitTime !== undefined) job.source.commitTime = commitTime;
  const r = await run(job, "/nonexistent");
  assert.equal(r.result.conclusion, "success", JSON.stringify(r.events.filter((e) => e.type === "log")));
  return r.result.steps.map((s) =>
    stepLogs(r.events, s.index)
      .map((l) => l.text)
      .filter((t) => t.startsWith("SDE="))
      .join(""),
  );
}

void test("every step gets the commit time; the step's env: wins for its own step", async () => {
  const steps = `      - ${PRINT}
      - env: { SOURCE_DATE_EPOCH: "5" }
        ${PRINT}
      - ${PRINT}
`;
  assert.deepEqual(await printed(workflow("", "", steps), 1733300000), [
    "SDE=[1733300000]",
    "SDE=[5]",
    "SDE=[1733300000]",
  ]);
});

void test("workflow env:, job env: and GITHUB_ENV win over the commit time", async () => {
  const wf = workflow("env:\n  SOURCE_DATE_EPOCH: 7\n", "", `      - ${PRINT}\n`);
  assert.deepEqual(await printed(wf, 1733300000), ["SDE=[7]"]);
  const job = workflow("", "    env:\n      SOURCE_DATE_EPOCH: 8\n", `      - ${PRINT}\n`);
  assert.deepEqual(await printed(job, 1733300000), ["SDE=[8]"]);
  const file = workflow("", "", `      - run: echo SOURCE_DATE_EPOCH=9 >> "$GITHUB_ENV"\n      - ${PRINT}\n`);
  assert.deepEqual(await printed(file, 1733300000), ["", "SDE=[9]"]);
});

void test("without a known commit time the variable is not set", async () => {
  assert.deepEqual(await printed(workflow("", "", `      - ${PRINT}\n`), undefined), ["SDE=[unset]"]);
});
