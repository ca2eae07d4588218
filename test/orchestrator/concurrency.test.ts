// `concurrency:` groups end to end: the real service, a real agent (fake provisioner: host
// processes) and real git repositories. A job stays running until the test creates the file its
// step waits for, so every state is reached by the test's own actions, never by a clock.
// Covered: a workflow-level group without cancel-in-progress (the second run waits, a third
// replaces it), with cancel-in-progress (the running run is cancelled) keyed by `github.ref` (other
// refs independent), and a job-level group shared by two runs, compared case-insensitively.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeRepo, type TempRepo } from "../helpers/repo.js";
import { addRepository, eventually, startTestService, type TestService } from "../helpers/service.js";

let t: TestService;
let gates: string;
const repos: TempRepo[] = [];

/** A job whose only step waits until the test releases its run (creates `<gates>/<run id>`). */
const waitingJob = (indent: string): string =>
  [
    `${indent}runs-on: ubuntu-latest`,
    `${indent}steps:`,
    `${indent}  - run: while [ ! -e "$GATES/$RUN" ]; do sleep 0.1; done`,
    `${indent}    env:`,
    `${indent}      RUN: \${{ github.run_id }}`,
  ].join("\n");

async function addRepo(name: string, workflow: string): Promise<number> {
  const repo = makeRepo({ ".github/workflows/ci.yml": workflow.replaceAll("$GATES", gates) });
  execFileSync("git", ["branch", "feature"], { cwd: repo.dir });
  repos.push(repo);
  return addRepository(t, name, repo.dir);
}

async function trigger(repoId: number, body: Record<string, unknown> = {}): Promise<number> {
  const r = await t.api<{ runs: Array<{ id: number }> }>("POST", `/api/v1/repositories/${repoId}/runs`, body);
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.runs.length, 1, r.text);
  return r.body.runs[0]!.id;
}

const release = (runId: number): void => writeFileSync(join(gates, String(runId)), "");

interface RunRow {
  state: string;
  conclusion: string | null;
  error: string | null;
  wait_reason: string | null;
}
interface JobRow {
  id: string;
  state: string;
  conclusion: string | null;
  error: string | null;
  wait_reason: string | null;
}

async function runRow(runId: number): Promise<RunRow> {
  const { rows } = await t.db.pool.query<RunRow>(
    `SELECT state, conclusion, error, wait_reason FROM runs WHERE id = $1`,
    [runId],
  );
  return rows[0]!;
}
async function jobsOf(runId: number): Promise<JobRow[]> {
  return (
    await t.db.pool.query<JobRow>(
      `SELECT id, state, conclusion, error, wait_reason FROM jobs WHERE run_id = $1 ORDER BY id`,
      [runId],
    )
  ).rows;
}

const jobRunning = (runId: number): Promise<JobRow> =>
  eventually(
    async () => (await jobsOf(runId)).find((j) => j.state === "running"),
    `a running job of run ${runId}`,
    60_000,
  );
const runWaiting = (runId: number): Promise<RunRow> =>
  eventually(async () => {
    const r = await runRow(runId);
    return r.wait_reason !== null ? r : undefined;
  }, `run ${runId} to wait for its group`);
const runDone = (runId: number): Promise<RunRow> =>
  eventually(
    async () => {
      const r = await runRow(runId);
      return r.state === "completed" ? r : undefined;
    },
    `run ${runId} to complete`,
    60_000,
  );

before(async () => {
  t = await startTestService({ leaseMs: 30_000 });
  gates = mkdtempSync(join(tmpdir(), "airlock-gates-"));
  await t.startAgent(await t.addNode("worker"), { fake: true });
});

after(async () => {
  await t?.stop();
  for (const r of repos) r.remove();
  if (gates) rmSync(gates, { recursive: true, force: true });
});

describe("concurrency groups", () => {
  it("workflow level: a second run waits, a third replaces it, the run after the first one starts", async () => {
    const repoId = await addRepo(
      "acme/queue",
      `on: push\nconcurrency: deploy-main\njobs:\n  deploy:\n${waitingJob("    ")}\n`,
    );
    const first = await trigger(repoId);
    await jobRunning(first);
    const second = await trigger(repoId);
    const waiting = await runWaiting(second);
    assert.equal(waiting.state, "queued");
    assert.equal(
      waiting.wait_reason,
      `waiting for concurrency group 'deploy-main' (run ${first} is running)`,
    );
    assert.deepEqual(await jobsOf(second), [], "a pending run has no jobs yet");
    const view = await t.api<{ waitReason: string | null }>("GET", `/api/v1/runs/${second}`);
    assert.equal(view.body.waitReason, waiting.wait_reason);

    const third = await trigger(repoId);
    const replaced = await runDone(second);
    assert.equal(replaced.conclusion, "cancelled");
    assert.equal(replaced.error, `superseded in concurrency group 'deploy-main' by run ${third}`);
    assert.equal(
      (await runWaiting(third)).wait_reason,
      `waiting for concurrency group 'deploy-main' (run ${first} is running)`,
    );
    assert.equal(
      (await runRow(first)).state,
      "running",
      "without cancel-in-progress the running run goes on",
    );

    release(first);
    assert.equal((await runDone(first)).conclusion, "success");
    await jobRunning(third);
    assert.equal((await runRow(third)).wait_reason, null);
    release(third);
    assert.equal((await runDone(third)).conclusion, "success");
  });

  it("cancel-in-progress keyed by github.ref: the running run of the same ref is cancelled, other refs run on", async () => {
    const repoId = await addRepo(
      "acme/cancel",
      `on: push\nconcurrency:\n  group: ci-\${{ github.ref }}\n  cancel-in-progress: \${{ github.ref == 'refs/heads/main' }}\njobs:\n  test:\n${waitingJob("    ")}\n`,
    );
    const main1 = await trigger(repoId, { ref: "main" });
    const feature = await trigger(repoId, { ref: "feature" });
    // Different refs, different groups: both run at once.
    await jobRunning(main1);
    await jobRunning(feature);

    const main2 = await trigger(repoId, { ref: "main" });
    const cancelled = await runDone(main1);
    assert.equal(cancelled.conclusion, "cancelled");
    assert.equal(
      cancelled.error,
      `cancelled in progress by run ${main2} (concurrency group 'ci-refs/heads/main', cancel-in-progress)`,
    );
    const [job] = await jobsOf(main1);
    assert.equal(job?.conclusion, "cancelled", "the running job was stopped on its node");
    await jobRunning(main2);
    assert.equal((await runRow(feature)).state, "running", "the other ref's run is untouched");

    release(feature);
    release(main2);
    assert.equal((await runDone(feature)).conclusion, "success");
    assert.equal((await runDone(main2)).conclusion, "success");
  });

  it("job level: a job of another run waits for the group (case-insensitive), then runs", async () => {
    const repoId = await addRepo(
      "acme/jobs",
      [
        "on:",
        "  workflow_dispatch:",
        "    inputs:",
        "      target: { type: string, required: true }",
        "      cancel: { type: string, default: 'no' }",
        "jobs:",
        "  deploy:",
        "    concurrency:",
        "      group: ${{ inputs.target }}",
        "      cancel-in-progress: ${{ inputs.cancel == 'yes' }}",
        waitingJob("    "),
        "",
      ].join("\n"),
    );
    const dispatch = (target: string, cancel = "no"): Promise<number> =>
      trigger(repoId, { event: "workflow_dispatch", inputs: { target, cancel } });
    const first = await dispatch("Production");
    const firstJob = await jobRunning(first);
    const second = await dispatch("production");
    const held = await eventually(async () => {
      const [j] = await jobsOf(second);
      return j?.wait_reason ? j : undefined;
    }, "the second run's job to wait");
    assert.equal(held.state, "queued");
    assert.equal(
      held.wait_reason,
      `waiting for concurrency group 'production' (job \`deploy\` of run ${first} is running)`,
    );
    assert.equal((await runRow(second)).state, "running", "job-level groups hold the job, not the run");

    // An unrelated group is not held.
    const other = await dispatch("staging");
    await jobRunning(other);

    release(first);
    assert.equal((await runDone(first)).conclusion, "success");
    assert.equal((await jobsOf(first))[0]?.id, firstJob.id);
    await jobRunning(second);
    release(second);
    release(other);
    assert.equal((await runDone(second)).conclusion, "success");
    assert.equal((await runDone(other)).conclusion, "success");
  });

  it("job level: a third job replaces the pending one; with cancel-in-progress the running job is stopped", async () => {
    const runs = await t.db.pool.query<{ repository_id: string }>(
      `SELECT r.repository_id FROM runs r JOIN repositories p ON p.id = r.repository_id WHERE p.name = 'acme/jobs' LIMIT 1`,
    );
    const repoId = Number(runs.rows[0]!.repository_id);
    const dispatch = (target: string, cancel = "no"): Promise<number> =>
      trigger(repoId, { event: "workflow_dispatch", inputs: { target, cancel } });
    const first = await dispatch("qa");
    await jobRunning(first);
    const second = await dispatch("QA");
    await eventually(
      async () => ((await jobsOf(second))[0]?.wait_reason ? true : undefined),
      "the second job to wait",
    );
    const third = await dispatch("Qa", "yes");

    const [superseded] = await eventually(async () => {
      const j = await jobsOf(second);
      return j[0]?.state === "completed" ? j : undefined;
    }, "the pending job to be replaced");
    assert.equal(superseded?.conclusion, "cancelled");
    assert.equal(superseded?.error, `superseded in concurrency group 'Qa' by run ${third}`);
    const stopped = await runDone(first);
    assert.equal(stopped.conclusion, "cancelled");
    const [job] = await jobsOf(first);
    assert.equal(job?.conclusion, "cancelled");
    assert.equal(
      job?.error,
      `cancelled in progress by run ${third} (concurrency group 'Qa', cancel-in-progress)`,
    );
    assert.equal((await runDone(second)).conclusion, "cancelled");

    await jobRunning(third);
    release(third);
    assert.equal((await runDone(third)).conclusion, "success");
  });

  it("a job in the group its own run holds at workflow level is cancelled as a deadlock", async () => {
    const repoId = await addRepo(
      "acme/deadlock",
      `on: push\nconcurrency: Both\njobs:\n  deploy:\n    concurrency: both\n${waitingJob("    ")}\n`,
    );
    const run = await trigger(repoId);
    const done = await runDone(run);
    assert.equal(done.conclusion, "cancelled");
    const [job] = await jobsOf(run);
    assert.equal(job?.conclusion, "cancelled");
    assert.equal(
      job?.error,
      "cancelled: concurrency group 'both' is held by this job's own run (workflow level): the job would wait for itself",
    );
  });
});
