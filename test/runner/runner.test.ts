// runJob behaviours that need code around them: cancellation through an AbortSignal, set-up
// failures, what the built-in checkout asks the WorkspaceSource for, the sh fallback, events.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { HOST_ROOT, createFakeProvisioner } from "../../src/provisioners/index.js";
import { runJob, type RunnerEvent } from "../../src/runner/index.js";
import { COMMIT, FIXTURES, destroyMachines, jobFromWorkflow, run, runFixture, stepLogs } from "./helpers.js";

after(destroyMachines);

const workflow = (steps: string, extra = ""): string =>
  `name: t\non: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n${extra}    steps:\n${steps}`;

void test("cancellation via AbortSignal kills the running step; only always()/cancelled() steps run", async () => {
  const job = jobFromWorkflow(
    "cancel.yml",
    workflow(`      - id: slow
        run: |
          echo started
          sleep 30
      - id: normal
        run: echo never
      - id: always
        if: always()
        run: echo "always ran, status=\${{ job.status }}"
      - id: on-cancel
        if: cancelled()
        run: echo cancelled-ran
`),
  );
  const ctrl = new AbortController();
  const machine = await createFakeProvisioner().create({ name: "cancel", root: HOST_ROOT });
  const events: RunnerEvent[] = [];
  try {
    const result = await runJob(job, {
      machine,
      actions: { load: () => Promise.reject(new Error("no actions")) },
      source: { checkout: async () => {} },
      signal: ctrl.signal,
      onEvent: (e) => {
        events.push(e);
        if (e.type === "log" && e.text === "started") ctrl.abort();
      },
    });
    assert.equal(result.conclusion, "cancelled");
    assert.deepEqual(
      result.steps.map((s) => [s.id, s.outcome, s.conclusion]),
      [
        ["slow", "cancelled", "cancelled"],
        ["normal", "skipped", "skipped"],
        ["always", "success", "success"],
        ["on-cancel", "success", "success"],
      ],
    );
    assert.ok(stepLogs(events, 2).some((l) => l.text === "always ran, status=cancelled"));
  } finally {
    await machine.destroy();
  }
});

void test("an already-aborted signal runs nothing but always() steps", async () => {
  const job = jobFromWorkflow(
    "pre-aborted.yml",
    workflow(`      - run: echo a\n      - if: always()\n        run: echo b\n`),
  );
  const ctrl = new AbortController();
  ctrl.abort();
  const { result } = await run(job, "/nonexistent", ctrl.signal);
  assert.equal(result.conclusion, "cancelled");
  assert.deepEqual(
    result.steps.map((s) => s.outcome),
    ["skipped", "success"],
  );
});

void test("a failing workspace checkout fails the job and skips every step, even always()", async () => {
  const job = jobFromWorkflow(
    "setup.yml",
    workflow(`      - run: echo a\n      - if: always()\n        run: echo b\n`),
  );
  const machine = await createFakeProvisioner().create({ name: "setup", root: HOST_ROOT });
  const events: RunnerEvent[] = [];
  try {
    const result = await runJob(job, {
      machine,
      actions: { load: () => Promise.reject(new Error("unused")) },
      source: { checkout: () => Promise.reject(new Error("clone failed")) },
      onEvent: (e) => events.push(e),
    });
    assert.equal(result.conclusion, "failure");
    assert.deepEqual(
      result.steps.map((s) => s.conclusion),
      ["skipped", "skipped"],
    );
    assert.ok(events.some((e) => e.type === "annotation" && e.level === "error" && e.step === undefined));
  } finally {
    await machine.destroy();
  }
});

void test("built-in actions/checkout asks the WorkspaceSource for the right path, ref, commit and clean flag", async () => {
  const { source, machine, loader } = await runFixture("checkout");
  const ws = machine.paths.workspace;
  const base = { repository: "/nonexistent/repo", commit: COMMIT, ref: "refs/heads/main" };
  assert.deepEqual(source.calls, [
    { ...base, path: ws, clean: true }, // job set-up
    { ...base, path: ws, clean: true }, // uses: actions/checkout@v4
    { ...base, path: path.join(ws, "nested/copy"), clean: true },
    { ...base, path: ws, clean: false }, // ref: the job commit itself
  ]);
  assert.deepEqual(loader.loaded, [], "actions/checkout is never loaded");
});

void test("built-in actions/checkout at a short SHA fails its step with one line, like GitHub", async () => {
  const job = jobFromWorkflow("short.yml", workflow(`      - uses: actions/checkout@11bd719\n`));
  const repo = mkdtempSync(path.join(tmpdir(), "airlock-short-"));
  try {
    const { result, events, source } = await run(job, repo);
    assert.equal(result.conclusion, "failure");
    assert.equal(source.calls.length, 1, "only the job set-up checkout");
    const errors = events.flatMap((e) => (e.type === "annotation" && e.level === "error" ? [e.message] : []));
    assert.equal(errors.length, 1);
    assert.match(errors[0] ?? "", /shortened commit SHA/);
    assert.ok(!errors[0]?.includes("\n"));
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
});

void test("default shell falls back to sh when bash is not on PATH", async () => {
  const bin = mkdtempSync(path.join(tmpdir(), "airlock-onlysh-"));
  try {
    symlinkSync("/bin/sh", path.join(bin, "sh"));
    const job = jobFromWorkflow(
      "fallback.yml",
      workflow(`      - run: echo "bash=\${BASH_VERSION:-none}"\n`, `    env:\n      PATH: ${bin}\n`),
    );
    const { result, events } = await run(job, "/nonexistent");
    assert.equal(result.conclusion, "success");
    assert.ok(stepLogs(events, 0).some((l) => l.text === "bash=none"));
    assert.ok(stepLogs(events, 0).some((l) => l.stream === "system" && l.text === `shell: ${bin}/sh -e {0}`));
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
});

void test("a shell program installed on PATH by an earlier step is found even after a step missed it", async () => {
  const job = jobFromWorkflow(
    "late-shell.yml",
    workflow(`      - run: mkdir -p "$HOME/bin" && echo "$HOME/bin" >> "$GITHUB_PATH"
      - id: early
        continue-on-error: true
        shell: latesh {0}
        run: echo too early
      - run: printf '#!/bin/sh\\nexec /bin/sh "$@"\\n' > "$HOME/bin/latesh" && chmod +x "$HOME/bin/latesh"
      - id: late
        shell: latesh {0}
        run: echo "late shell ran"
`),
  );
  const { result, events } = await run(job, "/nonexistent");
  assert.equal(result.steps[1]?.outcome, "failure");
  assert.equal(result.steps[3]?.conclusion, "success");
  assert.ok(stepLogs(events, 3).some((l) => l.text === "late shell ran"));
});

void test("inside a composite action, success()/failure() follow the action's own steps, not the job", async () => {
  const repo = mkdtempSync(path.join(tmpdir(), "airlock-composite-status-"));
  try {
    mkdirSync(path.join(repo, "act"));
    writeFileSync(
      path.join(repo, "act", "action.yml"),
      `name: act
runs:
  using: composite
  steps:
    - shell: sh
      run: echo "inner default ran"
    - if: failure()
      shell: sh
      run: echo "inner failure ran"
`,
    );
    const job = jobFromWorkflow(
      "composite-status.yml",
      workflow(`      - run: exit 1
      - if: always()
        uses: ./act
`),
    );
    const { result, events } = await run(job, repo);
    assert.equal(result.conclusion, "failure");
    const texts = stepLogs(events, 1).map((l) => l.text);
    assert.ok(texts.includes("inner default ran"), JSON.stringify(texts));
    assert.ok(!texts.includes("inner failure ran"), JSON.stringify(texts));
    assert.equal(result.steps[1]?.conclusion, "success");
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
});

void test("events: job-started first, step-started/finished pairs, job-finished last with the result", async () => {
  const { result, events } = await runFixture("status");
  assert.equal(events[0]?.type, "job-started");
  const last = events.at(-1);
  assert.equal(last?.type, "job-finished");
  assert.deepEqual(last?.type === "job-finished" && last.result, result);
  let open: number | undefined;
  for (const e of events) {
    if (e.type === "step-started") {
      assert.equal(open, undefined, "steps do not overlap");
      open = e.step.index;
    } else if (e.type === "step-finished") {
      assert.equal(e.step.index, open);
      open = undefined;
    } else if (e.type === "log" && e.step) {
      assert.equal(e.step.index, open, "logs belong to the running step");
    }
  }
  assert.ok(FIXTURES.length > 0);
});
