// `airlock runs`: list/show tables, trigger (with --wait exit codes), cancel, rerun, 404s.
// The stub moves a run queued → running → completed one step per GET, so --wait sees each.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { runCli, useStubCli } from "./harness.js";

describe("airlock runs", () => {
  const ctx = useStubCli(async ({ env }) => {
    await runCli(["repos", "add", "acme/app", "https://x/app.git"], env);
    await runCli(["repos", "add", "acme/other", "https://x/other.git"], env);
  });

  it("trigger sends ref, commit, event and inputs, and prints the new run", async () => {
    const r = await runCli(
      [
        "runs",
        "trigger",
        "acme/app",
        "--ref",
        "dev",
        "--commit",
        "abc123",
        "--event",
        "workflow_dispatch",
        "--input",
        "level=3",
        "--input",
        "msg=a=b",
      ],
      ctx.env,
    );
    assert.equal(r.code, 0, r.stderr);
    const post = ctx.stub.requests.filter((q) => q.method === "POST" && q.path.endsWith("/runs")).at(-1);
    assert.deepEqual(JSON.parse(post?.body ?? ""), {
      ref: "dev",
      commit: "abc123",
      event: "workflow_dispatch",
      inputs: { level: "3", msg: "a=b" },
    });
    const run = ctx.stub.runs.at(-1);
    assert.deepEqual(run?.inputs, { level: "3", msg: "a=b" });
    assert.equal(run?.event, "workflow_dispatch");
    assert.equal(
      r.stdout,
      `Run ${run?.id} #1 workflow_dispatch dev@abc123 queued: ${ctx.stub.url}/runs/${run?.id}\n`,
    );
  });

  it("a malformed --input is USAGE (exit 2) and triggers nothing", async () => {
    const count = ctx.stub.runs.length;
    const r = await runCli(["runs", "trigger", "acme/app", "--input", "novalue"], ctx.env);
    assert.equal(r.code, 2);
    assert.equal(r.error?.code, "USAGE");
    assert.equal(ctx.stub.runs.length, count);
  });

  it("trigger --wait follows the run, shows why a job waits, exits 0 on success", async () => {
    ctx.stub.triggerOutcome = "success";
    const r = await runCli(["runs", "trigger", "acme/app", "--wait"], ctx.env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /build: queued waiting: no enabled node has image `debian-12`/);
    assert.match(r.stderr, /build: running on node-1/);
    assert.match(r.stdout, /completed \(success\)/);
    assert.equal(ctx.stub.runs.at(-1)?.state, "completed");
  });

  it("trigger --wait exits 1 with RUN_FAILED when the run fails", async () => {
    ctx.stub.triggerOutcome = "failure";
    const r = await runCli(["runs", "trigger", "acme/app", "--wait"], ctx.env);
    assert.equal(r.code, 1);
    assert.equal(r.error?.code, "RUN_FAILED");
    assert.match(r.stdout, /✗ Run tests {2}failure/);
  });

  it("trigger --wait --json prints only the final runs on stdout", async () => {
    ctx.stub.triggerOutcome = "cancelled";
    const r = await runCli(["runs", "trigger", "acme/other", "--wait", "--json"], ctx.env);
    assert.equal(r.code, 1);
    assert.equal(r.error?.code, "RUN_FAILED");
    const out = JSON.parse(r.stdout) as { runs: { state: string; conclusion: string; jobs: unknown[] }[] };
    assert.equal(out.runs.length, 1);
    assert.equal(out.runs[0]?.state, "completed");
    assert.equal(out.runs[0]?.conclusion, "cancelled");
    assert.equal(out.runs[0]?.jobs.length, 1);
  });

  it("list filters by repository name (sent as its id) and state", async () => {
    const repoId = ctx.stub.repos.find((x) => x.name === "acme/other")?.id;
    const r = await runCli(["runs", "list", "--repo", "acme/other", "--state", "completed"], ctx.env);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(ctx.stub.requests.some((q) => q.path === `/api/v1/runs?repository=${repoId}&state=completed`));
    const lines = r.stdout.trimEnd().split("\n");
    assert.match(lines[0] ?? "", /^ID\s+REPOSITORY\s+RUN\s+STATUS\s+TRIGGER\s+CREATED\s+DURATION\s+TITLE$/);
    assert.equal(lines.length, 2);
    assert.match(
      lines[1] ?? "",
      /acme\/other\s+#1 push main@0123456\s+completed \(cancelled\)\s+manual by admin\s+2024-05-01 10:00:00\s+1m 5s\s+Fix the build$/,
    );
    const json = JSON.parse((await runCli(["runs", "list", "--json"], ctx.env)).stdout) as unknown[];
    assert.equal(json.length, ctx.stub.runs.length);
  });

  it("show prints jobs with state, node and steps; --json the API object", async () => {
    const id = ctx.stub.runs[0]?.id;
    const first = await runCli(["runs", "show", String(id)], ctx.env);
    assert.match(
      first.stdout,
      /Job \d+ {2}build {2}queued {2}waiting: no enabled node has image `debian-12`/,
    );
    await runCli(["runs", "show", String(id)], ctx.env);
    const done = await runCli(["runs", "show", String(id)], ctx.env);
    assert.match(done.stdout, /build {2}completed \(success\) {2}on node-1/);
    assert.match(done.stdout, /✓ Checkout {2}success/);
    const json = JSON.parse((await runCli(["runs", "show", String(id), "--json"], ctx.env)).stdout) as {
      id: number;
    };
    assert.equal(json.id, id);
  });

  it("cancel and rerun; a finished run is a CONFLICT; unknown runs are NOT_FOUND; a non-numeric id is USAGE", async () => {
    const ended = ctx.stub.runs.find((r) => r.state === "completed");
    assert.ok(ended, "a finished run in the stub");
    assert.equal((await runCli(["runs", "trigger", "acme/app"], ctx.env)).code, 0);
    const id = String(ctx.stub.runs.at(-1)?.id);
    const cancel = await runCli(["runs", "cancel", id], ctx.env);
    assert.equal(cancel.code, 0, cancel.stderr);
    assert.ok(ctx.stub.requests.some((q) => q.method === "POST" && q.path === `/api/v1/runs/${id}/cancel`));
    assert.equal(cancel.stdout, `Run ${id}: cancel requested.\n`);
    const refused = await runCli(["runs", "cancel", String(ended.id)], ctx.env);
    assert.equal(refused.code, 1);
    assert.equal(refused.error?.code, "CONFLICT");
    assert.equal(refused.stdout, "");
    assert.equal(
      refused.stderr,
      `airlock: run ${ended.id} has already finished (${ended.conclusion}): nothing to cancel\n`,
    );
    // A re-run is the run's next attempt; only a finished run can be re-run.
    const early = await runCli(["runs", "rerun", id], ctx.env);
    assert.equal(early.code, 1);
    assert.equal(early.error?.code, "CONFLICT");
    assert.equal(early.stderr.split("\n").length, 2, early.stderr); // one line
    const rerun = await runCli(["runs", "rerun", String(ended.id)], ctx.env);
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.match(
      rerun.stdout,
      new RegExp(
        `^Run ${ended.id} #${ended.number} \\S+ \\S+ attempt 2 queued \\(re-run of all jobs\\): http`,
      ),
    );
    Object.assign(ended, { state: "completed", conclusion: "failure" });
    const failed = await runCli(["runs", "rerun", String(ended.id), "--failed"], ctx.env);
    assert.match(failed.stdout, / attempt 3 queued \(re-run of failed jobs\): http/);
    Object.assign(ended, { state: "completed", conclusion: "success" });
    const job = await runCli(["runs", "rerun", String(ended.id), "--job", "build"], ctx.env);
    assert.match(job.stdout, / attempt 4 queued \(re-run of job build\): http/);
    const both = await runCli(["runs", "rerun", String(ended.id), "--job", "build", "--failed"], ctx.env);
    assert.equal(both.code, 2);
    assert.equal(both.error?.code, "USAGE");
    assert.deepEqual(ctx.stub.reruns, [
      { id: ended.id, failedOnly: false },
      { id: ended.id, failedOnly: true },
      { id: ended.id, failedOnly: false, job: "build" },
    ]);
    for (const cmd of ["show", "cancel", "rerun"]) {
      const r = await runCli(["runs", cmd, "4242"], ctx.env);
      assert.equal(r.code, 1);
      assert.equal(r.error?.code, "NOT_FOUND");
    }
    assert.equal((await runCli(["runs", "show", "latest"], ctx.env)).error?.code, "USAGE");
    assert.equal((await runCli(["runs", "trigger", "acme/none"], ctx.env)).error?.code, "NOT_FOUND");
  });
});
