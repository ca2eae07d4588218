// `airlock logs`: the stored log, --download, and --follow over SSE: backlog, live chunks and
// `end`; a dropped connection resumes with Last-Event-ID with no duplicate and no gap.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { ApiClient, followLog } from "../../src/cli/api/index.js";
import { isAirlockError } from "../../src/errors/index.js";
import { runCli, useStubCli } from "./harness.js";

describe("airlock logs", () => {
  const ctx = useStubCli();
  const streamRequests = (jobId: number) =>
    ctx.stub.requests.filter((q) => q.path === `/api/v1/jobs/${jobId}/logs/stream`);

  it("prints the stored log; --download asks for the attachment and writes the same bytes", async () => {
    ctx.stub.logs.appendLog(101, "line 1\n");
    ctx.stub.logs.appendLog(101, "ünïcode ✓\n");
    const plain = await runCli(["logs", "101"], ctx.env);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(plain.stdout, "line 1\nünïcode ✓\n");
    const dl = await runCli(["logs", "101", "--download"], ctx.env);
    assert.equal(dl.stdout, plain.stdout);
    assert.ok(ctx.stub.requests.some((q) => q.path === "/api/v1/jobs/101/logs?download=1"));
  });

  it("--follow on a completed job prints the backlog and ends", async () => {
    ctx.stub.logs.appendLog(102, "a\n");
    ctx.stub.logs.appendLog(102, "b\n");
    ctx.stub.logs.completeJob(102, "failure");
    const r = await runCli(["logs", "102", "--follow"], ctx.env);
    // The job's conclusion is the exit code: 1 for a failure, said in one line.
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.error?.code, "RUN_FAILED");
    assert.equal(r.stdout, "a\nb\n");
    assert.equal(r.stderr, "airlock: job 102 failed\n");
  });

  it("--follow prints live chunks as they come until the job completes", async () => {
    ctx.stub.logs.appendLog(103, "backlog\n");
    const running = runCli(["logs", "103", "-f"], ctx.env);
    await ctx.stub.logs.streamOpened(103, 1);
    ctx.stub.logs.appendLog(103, "live 1\n");
    ctx.stub.logs.appendLog(103, "live 2\n");
    ctx.stub.logs.completeJob(103, "success");
    const r = await running;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "backlog\nlive 1\nlive 2\n");
    assert.equal(streamRequests(103).length, 1);
  });

  it("--follow on a queued job says why it waits, each time that changes, and exits 1 when it is cancelled", async () => {
    ctx.stub.logs.waitJob(107, "no image matches labels [gpu]");
    const running = runCli(["logs", "107", "--follow"], ctx.env);
    await ctx.stub.logs.streamOpened(107, 1);
    ctx.stub.logs.waitJob(107, "waiting for a reviewer of environment production");
    ctx.stub.logs.completeJob(107, "cancelled");
    const r = await running;
    assert.equal(r.code, 1);
    assert.equal(r.error?.code, "RUN_FAILED");
    assert.equal(
      r.stderr,
      "Job 107 is queued: no image matches labels [gpu]\n" +
        "Job 107 is queued: waiting for a reviewer of environment production\n" +
        "airlock: job 107 was cancelled\n",
    );
    assert.equal(r.stdout, "");
  });

  it("--timestamps: lines prefixed with their time when following; asked of the server otherwise", async () => {
    ctx.stub.logs.appendLog(108, "one\ntwo\n", 1, "2026-01-02T03:04:05.678Z");
    ctx.stub.logs.appendLog(108, "three", 1, "2026-01-02T03:04:06.000Z");
    ctx.stub.logs.completeJob(108, "success");
    const r = await runCli(["logs", "108", "--follow", "--timestamps"], ctx.env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      "2026-01-02T03:04:05.6780000Z one\n2026-01-02T03:04:05.6780000Z two\n2026-01-02T03:04:06.0000000Z three",
    );
    const plain = await runCli(["logs", "108", "-t"], ctx.env);
    assert.equal(plain.code, 0, plain.stderr);
    assert.ok(
      ctx.stub.requests.some((q) => q.method === "GET" && q.path === "/api/v1/jobs/108/logs?timestamps=1"),
      JSON.stringify(ctx.stub.requests.map((q) => q.path)),
    );
    const bad = await runCli(["logs", "108", "--attempt", "0"], ctx.env);
    assert.equal(bad.code, 2);
    assert.equal(bad.error?.code, "USAGE");
  });

  it("resumes with Last-Event-ID after the connection is reset: no duplicate, no gap", async () => {
    for (const n of [1, 2, 3]) ctx.stub.logs.appendLog(104, `old ${n}\n`);
    ctx.stub.logs.drop = { jobId: 104, afterChunks: 2, how: "reset" };
    const running = runCli(["logs", "104", "--follow"], ctx.env);
    await ctx.stub.logs.streamOpened(104, 2);
    ctx.stub.logs.appendLog(104, "new 4\n");
    ctx.stub.logs.completeJob(104, "success");
    const r = await running;
    ctx.stub.logs.drop = undefined;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "old 1\nold 2\nold 3\nnew 4\n");
    const [first, second] = streamRequests(104);
    assert.equal(first?.headers["last-event-id"], undefined);
    assert.match(String(second?.headers["last-event-id"]), /^1:[12]$/);
    assert.match(r.stderr, /reconnecting/);
  });

  it("skips chunks a server resends after a resume, across attempts too", async () => {
    for (const n of [1, 2, 3]) ctx.stub.logs.appendLog(105, `try1 ${n}\n`, 1);
    ctx.stub.logs.appendLog(105, "try2 1\n", 2);
    ctx.stub.logs.drop = { jobId: 105, afterChunks: 3, how: "end", resend: 2 };
    const running = runCli(["logs", "105", "--follow"], ctx.env);
    await ctx.stub.logs.streamOpened(105, 2);
    ctx.stub.logs.appendLog(105, "try2 2\n", 2);
    ctx.stub.logs.completeJob(105, "success");
    const r = await running;
    ctx.stub.logs.drop = undefined;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "try1 1\ntry1 2\ntry1 3\ntry2 1\ntry2 2\n");
    assert.equal(streamRequests(105)[1]?.headers["last-event-id"], "1:3");
    assert.match(r.stderr, /--- attempt 2 ---/);
  });

  it("--follow --json prints one JSON object per chunk, then the end", async () => {
    ctx.stub.logs.appendLog(106, "x\n");
    ctx.stub.logs.completeJob(106, "success");
    const r = await runCli(["logs", "106", "--follow", "--json"], ctx.env);
    const lines = r.stdout
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as unknown);
    assert.deepEqual(lines, [
      { attempt: 1, seq: 1, data: "x\n", source: "step" },
      { end: true, conclusion: "success" },
    ]);
  });

  it("an unknown job is NOT_FOUND without retrying; --follow with --download is USAGE", async () => {
    for (const args of [
      ["logs", "999"],
      ["logs", "999", "--follow"],
    ]) {
      const r = await runCli(args, ctx.env);
      assert.equal(r.code, 1);
      assert.equal(r.error?.code, "NOT_FOUND");
    }
    assert.equal(streamRequests(999).length, 1);
    const both = await runCli(["logs", "101", "--follow", "--download"], ctx.env);
    assert.equal(both.code, 2);
    assert.equal(both.error?.code, "USAGE");
  });

  it("followLog gives up with SERVER_UNREACHABLE after maxReconnects attempts without progress", async () => {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    const port = (s.address() as { port: number }).port;
    await new Promise<void>((r) => s.close(() => r()));
    const client = new ApiClient({ server: `http://127.0.0.1:${port}` });
    let reconnects = 0;
    await assert.rejects(
      followLog(client, 1, {
        onChunk: () => assert.fail("no chunk expected"),
        onReconnect: () => (reconnects += 1),
        reconnectDelayMs: 1,
        maxReconnects: 2,
      }),
      (err) => isAirlockError(err, "SERVER_UNREACHABLE"),
    );
    assert.equal(reconnects, 2);
  });
});
