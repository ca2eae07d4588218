// dispatchInputs: workflow_dispatch / workflow_call inputs from command-line strings.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { dispatchInputs, parseWorkflow, type Workflow } from "../../src/workflow/index.js";
import { read } from "./fixtures.js";

function reusable(): Workflow {
  const r = parseWorkflow(".github/workflows/reusable.yml", read("valid", "reusable.yml"));
  assert.ok(r.workflow);
  return r.workflow;
}

describe("dispatchInputs", () => {
  it("applies defaults and the type's empty value", () => {
    const { inputs, problems } = dispatchInputs(reusable(), { target: "staging" });
    assert.deepEqual(problems, []);
    assert.deepEqual(inputs, { target: "staging", "dry-run": true, note: "none" });
  });

  it("coerces booleans and numbers", () => {
    const { inputs, problems } = dispatchInputs(reusable(), {
      target: "production",
      "dry-run": "false",
      level: "2.5",
      note: "hi",
    });
    assert.deepEqual(problems, []);
    assert.deepEqual(inputs, { target: "production", "dry-run": false, level: 2.5, note: "hi" });
  });

  it("reports every problem: missing required, bad boolean, bad number, bad choice, unknown input", () => {
    assert.equal(dispatchInputs(reusable(), {}).problems.length, 1);
    const { problems } = dispatchInputs(reusable(), {
      target: "moon",
      "dry-run": "yes",
      level: "many",
      colour: "red",
    });
    assert.equal(problems.length, 4);
  });

  it("gives a workflow without inputs an empty context and rejects unknown inputs", () => {
    const r = parseWorkflow(
      "w.yml",
      "on: workflow_dispatch\njobs:\n  a:\n    runs-on: x\n    steps: [{run: echo}]\n",
    );
    assert.ok(r.workflow);
    assert.deepEqual(dispatchInputs(r.workflow, {}), { inputs: {}, problems: [] });
    assert.equal(dispatchInputs(r.workflow, { x: "1" }).problems.length, 1);
  });

  it("defaults an unset boolean to false and an unset string to empty", () => {
    const r = parseWorkflow(
      "w.yml",
      "on:\n  workflow_dispatch:\n    inputs:\n      b:\n        type: boolean\n      s:\n        type: string\njobs:\n  a:\n    runs-on: x\n    steps: [{run: echo}]\n",
    );
    assert.ok(r.workflow);
    assert.deepEqual(dispatchInputs(r.workflow, {}).inputs, { b: false, s: "" });
  });
});
