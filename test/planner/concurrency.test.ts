// The local run's concurrency groups (planner/concurrency.ts) and group evaluation: an inner
// executor whose jobs end only when the test says so (or when they are cancelled), so every
// interleaving is driven explicitly.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { evaluateConcurrency, withConcurrencyGroups } from "../../src/planner/index.js";
import type { InstanceExecutor, InstanceRequest } from "../../src/planner/index.js";
import type { JobResult } from "../../src/runner/types.js";

function controllable(): {
  executor: InstanceExecutor;
  started: string[];
  finish(name: string): void;
} {
  const started: string[] = [];
  const enders = new Map<string, () => void>();
  return {
    started,
    finish: (name) => enders.get(name)?.(),
    executor: {
      run: (req) =>
        new Promise<JobResult>((resolve) => {
          started.push(req.instance.name);
          const end = (conclusion: JobResult["conclusion"]): void =>
            resolve({ conclusion, outputs: {}, steps: [], durationMs: 0 });
          enders.set(req.instance.name, () => end("success"));
          req.signal.addEventListener("abort", () => end("cancelled"), { once: true });
        }),
    },
  };
}

function request(name: string, group: string, cancelInProgress = false): InstanceRequest {
  return {
    instance: { key: name, id: name, name, workflow: "ci.yml", matrix: null },
    description: {} as InstanceRequest["description"],
    labels: [],
    concurrency: { group, cancelInProgress },
    signal: new AbortController().signal,
    onStarted: () => undefined,
    onEvent: () => undefined,
  };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe("local concurrency groups", () => {
  it("one running, one pending; a third replaces the pending one (case-insensitive)", async () => {
    const c = controllable();
    const ex = withConcurrencyGroups(c.executor);
    const a = ex.run(request("a", "Deploy"));
    const b = ex.run(request("b", "deploy"));
    const d = ex.run(request("d", "DEPLOY"));
    const other = ex.run(request("x", "elsewhere"));
    await tick();
    assert.deepEqual(c.started, ["a", "x"]);
    const rb = await b;
    assert.equal(rb.conclusion, "cancelled");
    assert.equal(rb.error, `superseded in concurrency group 'DEPLOY' by job "d"`);
    c.finish("a");
    assert.equal((await a).conclusion, "success");
    await tick();
    assert.deepEqual(c.started, ["a", "x", "d"]);
    c.finish("d");
    c.finish("x");
    assert.equal((await d).conclusion, "success");
    assert.equal((await other).conclusion, "success");
  });

  it("cancel-in-progress cancels the running job, and the newcomer starts after it ended", async () => {
    const c = controllable();
    const ex = withConcurrencyGroups(c.executor);
    const a = ex.run(request("a", "g"));
    await tick();
    const b = ex.run(request("b", "g", true));
    const ra = await a;
    assert.equal(ra.conclusion, "cancelled");
    assert.equal(ra.error, `cancelled in progress by job "b" (concurrency group 'g', cancel-in-progress)`);
    await tick();
    assert.deepEqual(c.started, ["a", "b"]);
    c.finish("b");
    assert.equal((await b).conclusion, "success");
  });

  it("a job in the group its own run holds at workflow level is cancelled (deadlock), others run", async () => {
    const c = controllable();
    const ex = withConcurrencyGroups(c.executor, (file) => (file === "ci.yml" ? "Release" : undefined));
    const r = await ex.run(request("a", "release"));
    assert.equal(r.conclusion, "cancelled");
    assert.match(r.error ?? "", /concurrency group 'release' is held by this job's own run/);
    assert.deepEqual(c.started, []);
    const b = ex.run(request("b", "other"));
    c.finish("b");
    assert.equal((await b).conclusion, "success");
  });

  it("evaluates the group and cancel-in-progress; an empty group is none; a bad one is refused", () => {
    const ctx = { github: { ref: "refs/heads/main" }, inputs: { now: "true" } };
    assert.deepEqual(
      evaluateConcurrency(
        { group: "ci-${{ github.ref }}", cancelInProgress: "${{ inputs.now == 'true' }}" },
        ctx,
      ),
      { group: "ci-refs/heads/main", cancelInProgress: true },
    );
    assert.deepEqual(evaluateConcurrency({ group: "plain" }, ctx), {
      group: "plain",
      cancelInProgress: false,
    });
    assert.equal(evaluateConcurrency({ group: "${{ inputs.missing }}" }, ctx), undefined);
    assert.throws(() => evaluateConcurrency({ group: "a\nb" }, ctx), /not valid/);
    assert.throws(() => evaluateConcurrency({ group: "x".repeat(401) }, ctx), /not valid/);
  });
});
