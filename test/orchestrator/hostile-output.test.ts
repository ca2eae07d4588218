// Hostile output never costs another job: on one agent with a short lease, a job floods its log
// at full speed (then prints a 100 MB line with no newline, NUL bytes and invalid UTF-8, and sets
// outputs and annotations carrying them) while an innocent job runs beside it. Outcomes, not
// durations: no lease expires (both jobs finish on their first attempt), the innocent job succeeds
// with every line of its log, and the flooding job's log is capped with one marker.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { makeRepo, type TempRepo } from "../helpers/repo.js";
import { startTestService, type TestService } from "../helpers/service.js";

const CAP = 1024 * 1024;
const INNOCENT_LINES = 3000;
let t: TestService;
let repo: TempRepo;

before(async () => {
  // The lease is short (10 s, heartbeats every second; production: 30 s): a heartbeat queued behind
  // the flood's log traffic (minutes of it without the node-side cap) loses both jobs, while a
  // loaded machine's database stalls (seen: ~1.5 s) stay well inside it.
  t = await startTestService({ logCapBytes: CAP, leaseMs: 10_000, heartbeatMs: 1000 });
  await t.startAgent(await t.addNode("node-hostile"));
  repo = makeRepo({
    ".github/workflows/ci.yml": `on: push
jobs:
  flood:
    runs-on: ubuntu-latest
    steps:
      - run: yes "flooding the log at full speed, flooding the log at full speed" | head -c 400000000
      - run: head -c 100000000 /dev/zero | tr '\\0' 'a'
  dirty:
    runs-on: ubuntu-latest
    steps:
      - id: dirty
        run: |
          printf 'nul\\000in a line and bad utf-8 \\377\\376 here\\n'
          printf 'dirty=a\\000b\\377c\\n' >> "$GITHUB_OUTPUT"
          printf 'DIRTY_ENV=x\\000y\\377z\\n' >> "$GITHUB_ENV"
          printf '::set-output name=old::p\\000q\\377r\\n'
          printf '::warning title=t\\000t::w\\000arn\\377ing\\n'
      - run: echo "env is $DIRTY_ENV"
    outputs:
      dirty: \${{ steps.dirty.outputs.dirty }}
      old: \${{ steps.dirty.outputs.old }}
  innocent:
    runs-on: ubuntu-latest
    steps:
      - run: for i in $(seq 1 ${INNOCENT_LINES}); do echo "innocent line $i"; [ $((i % 300)) = 0 ] && sleep 0.2; done; true
`,
  });
});
after(async () => {
  await t.stop();
  repo.remove();
});

describe("hostile output", () => {
  it("a flooding job is capped and the job beside it loses nothing", async () => {
    const r = await t.api<{ id: number }>("POST", "/api/v1/repositories", {
      name: "acme/hostile",
      cloneUrl: repo.dir,
    });
    const trig = await t.api<{ runs: Array<{ id: number }> }>(
      "POST",
      `/api/v1/repositories/${r.body.id}/runs`,
      {},
    );
    const run = await t.waitRun(trig.body.runs[0]?.id ?? -1, 300_000);
    const flood = run.jobs.find((j) => j.name === "flood");
    const innocent = run.jobs.find((j) => j.name === "innocent");
    assert.ok(flood && innocent, JSON.stringify(run));
    // No lease expired: both jobs completed on their first attempt.
    assert.equal(innocent.attempt, 1, "the innocent job was not retried");
    assert.equal(flood.attempt, 1, "the flooding job was not retried");
    assert.equal(innocent.conclusion, "success");
    assert.equal(flood.conclusion, "success", JSON.stringify(flood));

    const innocentLog = (await t.api("GET", `/api/v1/jobs/${innocent.id}/logs`)).text;
    for (let i = 1; i <= INNOCENT_LINES; i++) {
      assert.ok(
        innocentLog.includes(`innocent line ${i}\n`),
        `innocent line ${i} is missing: ${innocentLog.slice(-1500)}`,
      );
    }

    const floodLog = (await t.api("GET", `/api/v1/jobs/${flood.id}/logs`)).text;
    assert.ok(Buffer.byteLength(floodLog) < CAP + 64 * 1024, `log is ${Buffer.byteLength(floodLog)} bytes`);
    assert.ok(floodLog.includes("flooding the log"), "output before the cap is kept");
    assert.ok(!floodLog.includes("\u0000"), "no NUL in the stored log");
    const view = await t.api<{ logTruncated: boolean }>("GET", `/api/v1/jobs/${flood.id}`);
    assert.equal(view.body.logTruncated, true);
    assert.equal(floodLog.match(/truncated/g)?.length, 1, "one marker");
  });

  it("NUL bytes and invalid UTF-8 are replaced in log lines, outputs, env and annotations", async () => {
    const { rows } = await t.db.pool.query<{
      id: string;
      attempt: number;
      conclusion: string;
      outputs: unknown;
    }>(`SELECT id, attempt, conclusion, outputs FROM jobs WHERE name = 'dirty'`);
    const job = rows[0];
    assert.ok(job);
    const dl = (await t.api("GET", `/api/v1/jobs/${job.id}/logs`)).text;
    const all = await t.db.pool.query(
      `SELECT name, attempt, state, conclusion, error, wait_reason FROM jobs`,
    );
    assert.equal(job.attempt, 1, JSON.stringify(all.rows) + dl.slice(-3000));
    assert.equal(job.conclusion, "success");
    assert.deepEqual(job.outputs, { dirty: "a\uFFFDb\uFFFDc", old: "p\uFFFDq\uFFFDr" });
    const log = (await t.api("GET", `/api/v1/jobs/${job.id}/logs`)).text;
    assert.ok(log.includes("nul\uFFFDin a line and bad utf-8 \uFFFD\uFFFD here\n"), log);
    assert.ok(log.includes("env is x\uFFFDy\uFFFDz\n"), log);
    assert.ok(log.includes("warning: t\uFFFDt: w\uFFFDarn\uFFFDing"), log);
    assert.ok(!log.includes("\u0000"));
    const steps = await t.db.pool.query<{ outputs: unknown }>(
      `SELECT s.outputs FROM steps s WHERE s.job_id = $1 AND s.step_id = 'dirty'`,
      [job.id],
    );
    assert.deepEqual(steps.rows[0]?.outputs, { dirty: "a\uFFFDb\uFFFDc", old: "p\uFFFDq\uFFFDr" });
  });
});
