// Which jobs a "re-run failed jobs" attempt keeps (src/orchestrator/rerun.ts jobsToReuse): failed,
// cancelled and lost job instances and every job that needs one (transitively, all its matrix
// instances) run again; everything else — other instances of a failed matrix job included — is kept.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { jobsToReuse } from "../../src/orchestrator/rerun.js";
import type { Workflow } from "../../src/workflow/index.js";

const F = ".github/workflows/ci.yml";
const workflow = (jobs: Record<string, string[]>): Workflow =>
  ({
    file: F,
    name: "ci",
    jobs: Object.entries(jobs).map(([id, needs]) => ({ id, needs })),
  }) as unknown as Workflow;

let next = 1;
const job = (key: string, conclusion: string | null, state = "completed") => ({
  id: next++,
  key,
  jobId: key.split("#")[1] ?? "",
  state,
  conclusion,
});

describe("jobs a re-run of failed jobs keeps", () => {
  it("keeps independent jobs and the passing instances of a failed matrix job; re-runs dependents", () => {
    const w = workflow({ lint: [], test: [], package: ["test"], deploy: ["package"], docs: ["lint"] });
    const jobs = [
      job(`${F}#lint#0`, "success"),
      job(`${F}#test#0`, "success"),
      job(`${F}#test#1`, "failure"),
      job(`${F}#test#2`, "cancelled"),
      job(`${F}#package#0`, "skipped"),
      job(`${F}#deploy#0`, "skipped"),
      job(`${F}#docs#0`, "success"),
    ];
    const r = jobsToReuse(w, jobs);
    const kept = jobs.filter((j) => r.reuse.includes(j.id)).map((j) => j.key.slice(F.length + 1));
    assert.deepEqual(kept, ["lint#0", "test#0", "docs#0"]);
    assert.equal(r.failed, 2);
  });

  it("a lost job counts as failed; nothing failed keeps everything and says so", () => {
    const w = workflow({ a: [], b: ["a"] });
    const lost = [job(`${F}#a#0`, null, "lost"), job(`${F}#b#0`, "skipped")];
    assert.deepEqual(jobsToReuse(w, lost), { reuse: [], failed: 1 });
    const fine = [job(`${F}#a#0`, "success"), job(`${F}#b#0`, "success")];
    assert.deepEqual(jobsToReuse(w, fine), { reuse: fine.map((j) => j.id), failed: 0 });
  });

  it("one job: all its instances and the jobs that need it run again, failed or not", () => {
    const w = workflow({ build: [], test: ["build"], lint: [] });
    const jobs = [
      job(`${F}#build#0`, "success"),
      job(`${F}#build#1`, "success"),
      job(`${F}#test#0`, "success"),
      job(`${F}#lint#0`, "failure"),
    ];
    const r = jobsToReuse(w, jobs, (j) => j.key.includes("#build#"));
    assert.deepEqual(r, { reuse: [jobs[3]!.id], failed: 2 });
  });

  it("a called workflow's jobs belong to their caller: one failed inner job re-runs the whole call", () => {
    const w = workflow({ call: [], other: [] });
    const inner = `${F}#call#0/.github/workflows/reusable.yml`;
    const jobs = [
      job(`${inner}#call/build#0`, "success"),
      job(`${inner}#call/test#0`, "failure"),
      job(`${F}#other#0`, "success"),
    ];
    const r = jobsToReuse(w, jobs);
    assert.deepEqual(r.reuse, [jobs[2]!.id]);
    assert.equal(r.failed, 1);
  });
});
