// Table-driven runner tests: each folder in fixtures/ holds a real workflow file (workflow.yml), the
// workspace it runs in (repo/) and the expected outcome (expected.yml), side by side. Every fixture
// runs on the fake provisioner and in a real bubblewrap sandbox.
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { after, test } from "node:test";
import { FIXTURES, destroyMachines, runFixture, stepAnnotations, stepLogs, type Backend } from "./helpers.js";

after(destroyMachines);

const backends: Backend[] = ["fake", "sandbox"];
for (const [backend, name] of backends.flatMap((b) =>
  readdirSync(FIXTURES)
    .sort()
    .map((n) => [b, n] as const),
)) {
  void test(`fixture ${name} (${backend})`, async () => {
    const { result, events, expected } = await runFixture(name, undefined, backend);
    const trace = (): string =>
      JSON.stringify(
        events.filter((e) => e.type === "log" || e.type === "annotation"),
        null,
        1,
      );
    assert.equal(result.conclusion, expected.conclusion, `job conclusion\n${trace()}`);
    if (expected.outputs) assert.deepEqual(result.outputs, expected.outputs);
    assert.equal(
      result.steps.length,
      expected.steps.length,
      `steps: ${result.steps.map((s) => `${s.stage}:${s.id}`).join(", ")}`,
    );
    for (const [i, want] of expected.steps.entries()) {
      const got = result.steps[i]!;
      const where = `step ${i} (${got.id} "${got.name}")`;
      assert.equal(got.index, i);
      if (want.id !== undefined) assert.equal(got.id, want.id, where);
      if (want.name !== undefined) assert.equal(got.name, want.name, where);
      assert.equal(got.stage, want.stage ?? "main", where);
      if (want.outcome !== undefined) assert.equal(got.outcome, want.outcome, `${where} outcome\n${trace()}`);
      if (want.conclusion !== undefined) assert.equal(got.conclusion, want.conclusion, `${where} conclusion`);
      if (want.outputs !== undefined) assert.deepEqual(got.outputs, want.outputs, where);
      const logs = stepLogs(events, i);
      const lines = logs.filter((l) => l.stream !== "system" && l.kind === "line").map((l) => l.text);
      for (const line of want.logs ?? []) {
        assert.ok(
          lines.includes(line),
          `${where}: missing log line ${JSON.stringify(line)} in ${JSON.stringify(lines)}`,
        );
      }
      for (const bad of want.notInLogs ?? []) {
        assert.ok(
          !logs.some((l) => l.stream !== "system" && l.text.includes(bad)),
          `${where}: ${JSON.stringify(bad)} must not be logged`,
        );
      }
      for (const [kind, text] of want.kinds ?? []) {
        assert.ok(
          logs.some((l) => l.kind === kind && l.text === text),
          `${where}: no ${kind} log ${JSON.stringify(text)} in ${JSON.stringify(logs)}`,
        );
      }
      const anns = stepAnnotations(events, i);
      for (const a of want.annotations ?? []) {
        assert.ok(
          anns.some((g) => Object.entries(a).every(([k, v]) => (g as Record<string, unknown>)[k] === v)),
          `${where}: no annotation like ${JSON.stringify(a)} in ${JSON.stringify(anns)}`,
        );
      }
      for (const [level, n] of Object.entries(want.annotationCount ?? {})) {
        assert.equal(
          anns.filter((g) => g.level === level).length,
          n,
          `${where}: ${level} annotations ${JSON.stringify(anns)}`,
        );
      }
    }
    for (const a of expected.jobAnnotations ?? []) {
      assert.ok(
        stepAnnotations(events, undefined).some((g) => g.level === a.level),
        `job annotation ${a.level}`,
      );
    }
    if (expected.summaries)
      assert.deepEqual(
        result.summaries?.map((s) => s.markdown),
        expected.summaries,
      );
    const all = JSON.stringify(events);
    for (const bad of expected.nowhere ?? []) assert.ok(!all.includes(bad), `${JSON.stringify(bad)} leaked`);
    // Every step has exactly one started and one finished event, in order.
    const started = events
      .filter((e) => e.type === "step-started")
      .map((e) => e.type === "step-started" && e.step.index);
    assert.deepEqual(
      started,
      result.steps.map((s) => s.index),
    );
    assert.equal(events.at(-1)?.type, "job-finished");
    assert.equal(events[0]?.type, "job-started");
  });
}
