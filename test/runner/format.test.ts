// The stored text of runner events: a job cannot start a log line of its own. Airlock's status
// lines begin in the first column; names a job controls stay on one line; every line of job
// output, annotation messages and group titles is indented. eventSource says who wrote an event.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  eventSource,
  eventStyle,
  eventText,
  formatEvent,
  type RunnerEvent,
  type StepRef,
} from "../../src/runner/index.js";

const step: StepRef = { index: 0, id: "s", name: "build\nJob success", stage: "main" };

/** Lines of the stored text that start in the first column (Airlock's). */
const firstColumn = (e: RunnerEvent): string[] =>
  eventText(e)
    .split("\n")
    .filter((l) => l !== "" && !l.startsWith(" "));

void test("job-controlled text never starts a line in the first column", () => {
  const events: RunnerEvent[] = [
    { type: "log", step, stream: "stdout", kind: "line", text: "Job success" },
    { type: "log", step, stream: "stdout", kind: "line", text: "a\nJob success\r\nx\rJob failure" },
    { type: "log", step, stream: "stdout", kind: "group-start", text: "g\nJob success" },
    { type: "log", step, stream: "stdout", kind: "debug", text: "d\nJob success" },
    {
      type: "annotation",
      step,
      level: "error",
      message: "boom\nJob success",
      title: "t\nJob",
      source: "step",
    },
    { type: "annotation", step, level: "warning", message: "m", file: "f\nJob success", line: 3 },
  ];
  for (const e of events) assert.deepEqual(firstColumn(e), [], JSON.stringify(e));
  assert.equal(eventText(events[0]!), "  | Job success\n");
  assert.equal(eventText(events[4]!), "  error: t Job: boom\n    Job success\n");
});

void test("status lines keep a job-controlled name on one line", () => {
  assert.equal(eventText({ type: "step-started", step, at: 0 }), "▶ build Job success\n");
  const result = {
    ...step,
    outcome: "success",
    conclusion: "success",
    outputs: {},
    durationMs: 1200,
  } as const;
  assert.equal(eventText({ type: "step-finished", step, result }), "✓ build Job success success [1.2s]\n");
  const done: RunnerEvent = {
    type: "job-finished",
    result: { conclusion: "success", outputs: {}, steps: [], durationMs: 1 },
  };
  assert.deepEqual(firstColumn(done), ["Job success"]);
});

void test("eventSource: output and step annotations are the job's, the rest Airlock's", () => {
  assert.equal(eventSource({ type: "log", stream: "stdout", kind: "line", text: "x" }), "step");
  assert.equal(eventSource({ type: "log", stream: "stderr", kind: "line", text: "x" }), "step");
  assert.equal(eventSource({ type: "log", stream: "system", kind: "line", text: "egress" }), "system");
  assert.equal(eventSource({ type: "annotation", level: "error", message: "m", source: "step" }), "step");
  assert.equal(eventSource({ type: "annotation", level: "error", message: "m", source: "system" }), "system");
  assert.equal(
    eventSource({ type: "annotation", level: "error", message: "m" }),
    "step",
    "unsaid: the job's",
  );
  assert.equal(eventSource({ type: "step-started", step, at: 0 }), "system");
});

void test("eventStyle: each stored chunk's style, group-end for the (textless) end of a group", () => {
  const finished = (conclusion: "success" | "failure" | "skipped"): RunnerEvent => ({
    type: "step-finished",
    step,
    result: { ...step, outcome: conclusion, conclusion, outputs: {}, durationMs: 1 },
  });
  const cases: Array<[RunnerEvent, string | null]> = [
    [{ type: "step-started", step, at: 1 }, "step"],
    [{ type: "log", step, stream: "stdout", kind: "group-start", text: "g" }, "group"],
    [{ type: "log", step, stream: "stdout", kind: "line", text: "a\nb" }, "log"],
    [{ type: "log", step, stream: "stdout", kind: "debug", text: "d" }, "debug"],
    [{ type: "log", step, stream: "stdout", kind: "group-end", text: "" }, "group-end"],
    [{ type: "annotation", step, level: "notice", message: "n" }, "notice"],
    [{ type: "annotation", step, level: "warning", message: "w" }, "warning"],
    [{ type: "annotation", step, level: "error", message: "e" }, "error"],
    [finished("success"), "ok"],
    [finished("failure"), "bad"],
    [finished("skipped"), "skip"],
    [{ type: "job-started", at: 1 }, null],
  ];
  for (const [e, style] of cases) assert.equal(eventStyle(e), style, JSON.stringify(e));
  // The console and the stored text are unchanged: a group's end has no line.
  const end: RunnerEvent = { type: "log", step, stream: "stdout", kind: "group-end", text: "" };
  assert.deepEqual(formatEvent(end), []);
  assert.equal(eventText(end), "");
});
