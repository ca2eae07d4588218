// Re-runs as attempts of the same run (GitHub's model), through the real service, agent and
// sandboxes: "re-run failed jobs" runs the failed job and the job that needs it again and keeps the
// others' results (outputs included); "re-run all jobs" runs everything; "re-run this job" runs one
// job and its dependents; github.run_attempt counts
// up; earlier attempts' jobs and logs stay readable (API and `airlock logs --attempt`); log lines
// carry their time (`--timestamps`); `logs --follow` exits with the job's conclusion; a queued
// job's log stream says why it waits; a run that has not finished is not re-run (409).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { makeRepo, type TempRepo } from "../helpers/repo.js";
import {
  addRepository,
  eventually,
  startTestService,
  triggerRuns,
  type TestService,
} from "../helpers/service.js";
import { runCli, tempHome } from "../cli/harness.js";

let t: TestService;
const repos: TempRepo[] = [];
const home = tempHome();

const WORKFLOW = `on: push
jobs:
  build:
    runs-on: ubuntu-latest
    outputs:
      v: \${{ steps.s.outputs.v }}
    steps:
      - id: s
        run: echo "v=built-in-\${{ github.run_attempt }}" >> "$GITHUB_OUTPUT"
  flaky:
    runs-on: ubuntu-latest
    steps:
      - run: echo "flaky attempt \${{ github.run_attempt }} by \${{ github.triggering_actor }}"
      - run: test "\${{ github.run_attempt }}" != 1
  after:
    needs: [build, flaky]
    runs-on: ubuntu-latest
    steps:
      - run: echo "after build=\${{ needs.build.outputs.v }} attempt=\${{ github.run_attempt }} env=$GITHUB_RUN_ATTEMPT"
  independent:
    runs-on: ubuntu-latest
    steps:
      - run: echo "independent \${{ github.run_attempt }}"
`;

interface Job {
  id: number;
  jobId: string;
  name: string;
  state: string;
  conclusion: string | null;
  runAttempt: number;
  reusedFrom: number | null;
  outputs: Record<string, string>;
}
interface Attempt {
  attempt: number;
  mode: string;
  job: string | null;
  triggeringActor: string;
  state: string;
  conclusion: string | null;
}
interface Run {
  id: number;
  number: number;
  state: string;
  conclusion: string | null;
  attempt: number;
  shownAttempt: number;
  attempts: Attempt[];
  jobs: Job[];
}

before(async () => {
  t = await startTestService();
  await t.startAgent(await t.addNode("node-attempts"));
});
after(async () => {
  await t.stop();
  repos.forEach((r) => r.remove());
  home.remove();
});

async function addRepo(name: string, workflow: string): Promise<number> {
  const repo = makeRepo({ ".github/workflows/ci.yml": workflow });
  repos.push(repo);
  return addRepository(t, name, repo.dir);
}

async function trigger(repoId: number): Promise<number> {
  return (await triggerRuns(t, repoId))[0]!;
}

async function finished(runId: number): Promise<Run> {
  await t.waitRun(runId, 120_000);
  return (await t.api<Run>("GET", `/api/v1/runs/${runId}`)).body;
}

const byName = (run: Run): Record<string, Job> => Object.fromEntries(run.jobs.map((j) => [j.jobId, j]));
const log = async (jobId: number, query = ""): Promise<string> =>
  (await t.api("GET", `/api/v1/jobs/${jobId}/logs${query}`)).text;
const cli = (...args: string[]) =>
  runCli(args, {
    AIRLOCK_SERVER: t.service.url,
    AIRLOCK_TOKEN: t.service.adminToken ?? "",
    AIRLOCK_HOME: home.dir,
    HOME: home.dir,
  });
const STAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z /;

describe("re-runs are attempts of the same run", () => {
  it("re-runs the failed jobs and their dependents, then all jobs; earlier attempts stay readable", async () => {
    const runId = await trigger(await addRepo("acme/attempts", WORKFLOW));
    const first = await finished(runId);
    assert.equal(first.conclusion, "failure");
    assert.equal(first.attempt, 1);
    const a1 = byName(first);
    assert.deepEqual(Object.fromEntries(Object.values(a1).map((j) => [j.jobId, j.conclusion])), {
      build: "success",
      flaky: "failure",
      after: "skipped",
      independent: "success",
    });
    assert.equal(a1.build!.outputs.v, "built-in-1");

    // A successful re-run of failed jobs is refused on a run that has nothing failed (below);
    // here: attempt 2 re-runs `flaky` and `after` (it needs flaky) and keeps `build` and `independent`.
    const rr = await t.api<{ id: number; number: number; attempt: number }>(
      "POST",
      `/api/v1/runs/${runId}/rerun`,
      { failedOnly: true },
    );
    assert.equal(rr.status, 201, rr.text);
    assert.deepEqual([rr.body.id, rr.body.number, rr.body.attempt], [runId, first.number, 2]);
    const second = await finished(runId);
    assert.equal(second.conclusion, "success", JSON.stringify(second));
    assert.equal(second.attempt, 2);
    assert.equal(second.shownAttempt, 2);
    const a2 = byName(second);
    assert.equal(a2.build!.reusedFrom, a1.build!.id, "build's result is kept");
    assert.equal(a2.independent!.reusedFrom, a1.independent!.id);
    assert.equal(a2.build!.outputs.v, "built-in-1", "with its outputs");
    assert.equal(a2.flaky!.reusedFrom, null);
    assert.equal(a2.after!.reusedFrom, null);
    for (const j of second.jobs) assert.equal(j.runAttempt, 2);
    for (const j of first.jobs) assert.ok(!second.jobs.some((x) => x.id === j.id), "new job rows");
    assert.match(await log(a2.after!.id), /after build=built-in-1 attempt=2 env=2/);
    assert.deepEqual(
      second.attempts.map((a) => [a.attempt, a.mode, a.state, a.conclusion]),
      [
        [1, "all", "completed", "failure"],
        [2, "failed", "completed", "success"],
      ],
    );
    const reRunner = second.attempts[1]!.triggeringActor;
    assert.ok(reRunner !== "", "the re-runner is recorded");
    assert.match(await log(a2.flaky!.id), new RegExp(`flaky attempt 2 by ${reRunner}`));
    // The reused job's log is the log of the job that ran.
    assert.equal(await log(a2.build!.id), await log(a1.build!.id));
    // Attempt 1 is kept: its jobs, conclusions and logs.
    const old = (await t.api<Run>("GET", `/api/v1/runs/${runId}?attempt=1`)).body;
    assert.equal(old.shownAttempt, 1);
    assert.deepEqual(old.jobs.map((j) => j.id).sort(), first.jobs.map((j) => j.id).sort());
    assert.equal(byName(old).flaky!.conclusion, "failure");
    assert.match(await log(a1.flaky!.id), /flaky attempt 1/);
    const none = await t.api<{ error: { code: string } }>("GET", `/api/v1/runs/${runId}?attempt=3`);
    assert.equal(none.status, 404);

    // Nothing failed now: "re-run failed jobs" is refused, in one line, and changes nothing.
    const nothing = await t.api<{ error: { code: string; message: string } }>(
      "POST",
      `/api/v1/runs/${runId}/rerun`,
      { failedOnly: true },
    );
    assert.equal(nothing.status, 409, nothing.text);
    assert.equal(nothing.body.error.code, "CONFLICT");
    assert.ok(!nothing.body.error.message.includes("\n"));
    assert.equal((await t.api<Run>("GET", `/api/v1/runs/${runId}`)).body.attempt, 2);

    // Re-run all jobs: attempt 3 runs every job again.
    const all = await cli("runs", "rerun", String(runId));
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /attempt 3 queued \(re-run of all jobs\)/);
    const third = await finished(runId);
    assert.equal(third.conclusion, "success");
    const a3 = byName(third);
    for (const j of third.jobs) assert.deepEqual([j.runAttempt, j.reusedFrom], [3, null], j.jobId);
    assert.equal(a3.build!.outputs.v, "built-in-3");
    assert.match(await log(a3.after!.id), /after build=built-in-3 attempt=3 env=3/);

    // The CLI: a job by name in a run, the latest attempt or --attempt N; a job id in another attempt.
    const latest = await cli("logs", String(runId), "flaky");
    assert.equal(latest.code, 0, latest.stderr);
    assert.match(latest.stdout, /flaky attempt 3/);
    const earlier = await cli("logs", String(runId), "flaky", "--attempt", "1");
    assert.match(earlier.stdout, /flaky attempt 1/);
    const sameJob = await cli("logs", String(a3.flaky!.id), "--attempt", "2");
    assert.match(sameJob.stdout, /flaky attempt 2/);
    const missing = await cli("logs", String(runId), "nosuch");
    assert.equal(missing.error?.code, "NOT_FOUND");
    const show = await cli("runs", "show", String(runId), "--attempt", "1");
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /Attempts: 3 \(jobs of attempt 1 below/);
    assert.match(show.stdout, /#2 completed \(success\)\s+re-run of failed jobs by /);
    assert.ok(show.stdout.includes(`Job ${a1.flaky!.id} `), show.stdout);

    // Timestamps: each line prefixed with its time (ISO 8601 UTC, GitHub's raw log format).
    const plain = await log(a1.flaky!.id);
    const stamped = await log(a1.flaky!.id, "?timestamps=1");
    const lines = stamped.split("\n").filter((l) => l !== "");
    assert.ok(lines.length > 2);
    for (const l of lines) assert.match(l, STAMP);
    assert.equal(stamped.replace(/^\S+ /gm, ""), plain, "the same log, each line with its time");
    const times = lines.map((l) => Date.parse(l.slice(0, 23) + "Z"));
    const created = Date.parse(
      (await t.api<{ createdAt: string }>("GET", `/api/v1/runs/${runId}`)).body.createdAt,
    );
    for (const time of times)
      assert.ok(time >= created - 1000 && time <= Date.now(), new Date(time).toISOString());
    const cliStamped = await cli("logs", String(a1.flaky!.id), "-t");
    assert.equal(cliStamped.stdout, stamped);

    // --follow on a finished job: the log, then its conclusion as the exit code.
    const failedFollow = await cli("logs", String(a1.flaky!.id), "--follow");
    assert.equal(failedFollow.code, 1);
    assert.equal(failedFollow.error?.code, "RUN_FAILED");
    assert.equal(failedFollow.error?.message, `job ${a1.flaky!.id} failed`);
    assert.match(failedFollow.stdout, /flaky attempt 1/);
    const okFollow = await cli("logs", String(a3.after!.id), "-f", "-t");
    assert.equal(okFollow.code, 0, okFollow.stderr);
    assert.match(okFollow.stdout.split("\n")[0] ?? "", STAMP);
    assert.match(okFollow.stderr, new RegExp(`Job ${a3.after!.id} completed \\(success\\)`));

    // Re-run one job (GitHub's "Re-run this job"): `build` and `after`, which needs it; the others kept.
    const unknown = await cli("runs", "rerun", String(runId), "--job", "nosuch");
    assert.equal(unknown.error?.code, "NOT_FOUND");
    assert.equal(unknown.stderr, `airlock: run ${runId} has no job 'nosuch' in attempt 3\n`);
    const both = await cli("runs", "rerun", String(runId), "--job", "build", "--failed");
    assert.equal(both.error?.code, "USAGE");
    const one = await cli("runs", "rerun", String(runId), "--job", "build");
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /attempt 4 queued \(re-run of job build\)/);
    const fourth = await finished(runId);
    assert.equal(fourth.conclusion, "success");
    const a4 = byName(fourth);
    assert.deepEqual(Object.fromEntries(fourth.jobs.map((j) => [j.jobId, j.reusedFrom])), {
      build: null,
      after: null,
      flaky: a3.flaky!.id,
      independent: a3.independent!.id,
    });
    assert.equal(a4.build!.outputs.v, "built-in-4");
    assert.match(await log(a4.after!.id), /after build=built-in-4 attempt=4 env=4/);
    assert.deepEqual(
      fourth.attempts.map((a) => [a.mode, a.job]),
      [
        ["all", null],
        ["failed", null],
        ["all", null],
        ["job", "build"],
      ],
    );
  });

  it("a run still running is not re-run; a queued job's log stream says why it waits", async () => {
    const runId = await trigger(
      await addRepo(
        "acme/stuck",
        `on: push
jobs:
  wait:
    runs-on: no-such-label-xyz
    steps:
      - run: echo never
`,
      ),
    );
    const jobId = await eventually(async () => {
      const r = await t.api<Run>("GET", `/api/v1/runs/${runId}`);
      const j = r.body.jobs[0];
      return j?.state === "queued" ? j.id : undefined;
    }, "the queued job");
    const refused = await cli("runs", "rerun", String(runId));
    assert.equal(refused.code, 1);
    assert.equal(refused.error?.code, "CONFLICT");
    assert.match(refused.stderr, /^airlock: run \d+ is (queued|running): only a finished run can be re-run/);
    assert.equal(refused.stderr.split("\n").length, 2, "one line");

    // The stream's first event says why the job waits.
    const abort = new AbortController();
    const res = await fetch(`${t.service.url}/api/v1/jobs/${jobId}/logs/stream`, {
      headers: { authorization: `Bearer ${t.service.adminToken ?? ""}` },
      signal: abort.signal,
    });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    let text = "";
    while (!text.includes("event: wait")) {
      const r = await reader.read();
      if (r.done) break;
      text += new TextDecoder().decode(r.value);
    }
    abort.abort();
    const data = /event: wait\ndata: (.*)\n/.exec(text)?.[1];
    assert.ok(data, text);
    assert.match((JSON.parse(data) as { reason: string }).reason, /no-such-label-xyz/);

    // Cancelled: --follow ends with exit code 1 and says so.
    const follow = cli("logs", String(jobId), "--follow");
    assert.equal((await t.api("POST", `/api/v1/runs/${runId}/cancel`)).status, 202);
    const r = await follow;
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.error?.message, `job ${jobId} was cancelled`);
  });
});
