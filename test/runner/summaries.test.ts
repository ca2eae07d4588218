// Step summaries as the agent sends them and the orchestrator keeps them: well-formed, one per
// step, in step order, at most 1 MiB each and 8 MiB together as they weigh in the JSON message.
import assert from "node:assert/strict";
import { test } from "node:test";
import { boundedSummaries, SUMMARIES_MAX_BYTES, SUMMARY_MAX_BYTES } from "../../src/runner/index.js";

const step = (index: number, extra: Record<string, unknown> = {}) => ({
  index,
  id: `s${index}`,
  name: `step ${index}`,
  stage: "main",
  ...extra,
});

void test("keeps well-formed summaries, one per step, in step order", () => {
  const kept = boundedSummaries([
    { step: step(2), markdown: "two" },
    { step: step(0), markdown: "zero" },
    { step: step(0), markdown: "zero again" },
    { step: step(1), markdown: "" },
    { step: step(3), markdown: 3 },
    { step: { index: -1 }, markdown: "negative" },
    { step: { index: 1.5 }, markdown: "fraction" },
    null,
    "text",
    { markdown: "no step" },
    { step: step(4, { stage: "weird", name: 7, id: "x".repeat(300) }), markdown: "four" },
  ]);
  assert.deepEqual(
    kept.map((s) => [s.step.index, s.markdown]),
    [
      [0, "zero"],
      [2, "two"],
      [4, "four"],
    ],
  );
  assert.deepEqual(kept[2]!.step, { index: 4, id: "x".repeat(200), name: "", stage: "main" });
  assert.deepEqual(boundedSummaries(undefined), []);
  assert.deepEqual(boundedSummaries({ length: 1 }), []);
});

void test("drops a summary over 1 MiB and those past 8 MiB of JSON in all", () => {
  const big = "a".repeat(SUMMARY_MAX_BYTES);
  assert.equal(boundedSummaries([{ step: step(0), markdown: `${big}a` }]).length, 0);
  assert.equal(boundedSummaries([{ step: step(0), markdown: big }]).length, 1);
  // Quotes double when escaped: four 1 MiB summaries of quotes weigh 8 MiB and more in JSON.
  const quotes = '"'.repeat(SUMMARY_MAX_BYTES);
  const kept = boundedSummaries([0, 1, 2, 3, 4].map((i) => ({ step: step(i), markdown: quotes })));
  assert.equal(kept.length, 3);
  const weight = kept.reduce((n, s) => n + Buffer.byteLength(JSON.stringify(s.markdown)), 0);
  assert.ok(weight <= SUMMARIES_MAX_BYTES);
  // A small one after the budget is spent still fits if there is room.
  const mixed = boundedSummaries([
    ...[0, 1, 2, 3, 4, 5, 6, 7].map((i) => ({
      step: step(i),
      markdown: big.slice(0, SUMMARY_MAX_BYTES - 10),
    })),
    { step: step(8), markdown: "small" },
  ]);
  assert.deepEqual(mixed.at(-1)?.markdown, "small");
});
