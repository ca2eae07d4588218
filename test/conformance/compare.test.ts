// The corpus's own rules: every case folder is well formed and the comparison of a run document
// with expectations (job ids, matrix legs by display name, reusable-workflow jobs) is right.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { aggregate, compare, loadCases, type RunDocument } from "./corpus.js";

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
});
