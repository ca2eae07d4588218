// The corpus's own rules: every case folder is well formed and the comparison of a run document
// with expectations (job ids, matrix legs by display name, reusable-workflow jobs) is right.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { aggregate, compare, compareRefusal, loadCases, type RunDocument } from "./corpus.js";

const casesDir = join(dirname(fileURLToPath(import.meta.url)), "cases");

void describe("conformance corpus files", () => {
  void it("every case folder has a valid case.json and at least one workflow", () => {
    const cases = loadCases(casesDir);
    assert.equal(cases.length, readdirSync(casesDir).length, "a folder without case.json");
    for (const c of cases) {
      assert.ok(existsSync(join(c.dir, ".github", "workflows")), `${c.name} has no workflows`);
      assert.ok(c.why.length > 10, `${c.name} lacks a why`);
    }
    assert.ok(cases.length >= 40, `only ${cases.length} cases`);
  });
});

void describe("comparing a run with expectations", () => {
  const doc: RunDocument = {
    conclusion: "failure",
    jobs: [
      { id: "build", name: "build (a)", conclusion: "success" },
      { id: "build", name: "build (b)", conclusion: "failure" },
      { id: "call", name: "call", conclusion: "success" },
      { id: "call/inner", name: "call / inner", conclusion: "success" },
      { id: "after", name: "after", conclusion: "skipped" },
    ],
  };

  void it("takes matrix legs together under the job id", () => {
    assert.deepEqual(compare({ expected: { build: "failure" } }, doc), []);
    assert.deepEqual(compare({ expected: { build: "success" } }, doc), [
      { key: "build", expected: "success", actual: "failure" },
    ]);
  });

  void it("reads one leg by display name and reusable jobs by caller/inner id", () => {
    const expected = {
      "build (a)": "success",
      "call/inner": "success",
      call: "success",
      after: "skipped",
    } as const;
    assert.deepEqual(compare({ expected }, doc), []);
  });

  void it("reports a missing job and a different run conclusion", () => {
    assert.deepEqual(compare({ expected: { nope: "skipped" }, conclusion: "success" }, doc), [
      { key: "nope", expected: "skipped", actual: "missing" },
      { key: "(run)", expected: "success", actual: "failure" },
    ]);
  });

  void it("aggregates like needs.<job>.result", () => {
    assert.equal(aggregate(["success", "cancelled"]), "cancelled");
    assert.equal(aggregate(["cancelled", "failure"]), "failure");
    assert.equal(aggregate(["skipped", "skipped"]), "skipped");
    assert.equal(aggregate(["success", "skipped"]), "success");
    assert.equal(aggregate([]), "missing");
  });

  void it("a refused workflow must stop the run and name every position", () => {
    const pos = ".github/workflows/ci.yml:7:15";
    const log = `airlock: 1 problem(s) found, nothing was run:\n${pos}: Expected format\n`;
    assert.deepEqual(compareRefusal([pos], 2, "", log), []);
    assert.deepEqual(compareRefusal([pos], 2, "", "airlock: something else\n"), [
      { key: pos, expected: "a problem", actual: "none" },
    ]);
    assert.deepEqual(compareRefusal([pos], 1, '{"conclusion":"failure"}', ""), [
      { key: "(workflow)", expected: "refused", actual: "ran (exit code 1)" },
    ]);
  });
});
