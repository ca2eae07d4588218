// dispatchInputs: workflow_dispatch / workflow_call inputs from command-line strings;
// resolveDispatch: the event payload's inputs and given values together, as GitHub fills them.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { dispatchInputs, parseWorkflow, resolveDispatch, type Workflow } from "../../src/workflow/index.js";
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

describe("resolveDispatch", () => {
  it("takes inputs from the event payload, typed in inputs and as text in github.event.inputs", () => {
    const r = resolveDispatch(reusable(), {}, { target: "production", "dry-run": "false", level: 2 });
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.inputs, { target: "production", "dry-run": false, level: 2, note: "none" });
    assert.deepEqual(r.eventInputs, { target: "production", "dry-run": "false", level: "2", note: "none" });
  });

  it("lets a given value win over the payload, and keeps a number's spelling as given", () => {
    const r = resolveDispatch(
      reusable(),
      { target: "staging", level: "2.50" },
      { target: "production", level: 1 },
    );
    assert.deepEqual(r.problems, []);
    assert.equal(r.inputs.target, "staging");
    assert.equal(r.inputs.level, 2.5);
    assert.equal(r.eventInputs.target, "staging");
    assert.equal(r.eventInputs.level, "2.50");
    // JSON booleans in the payload are booleans too.
    assert.equal(
      resolveDispatch(reusable(), { target: "staging" }, { "dry-run": false }).inputs["dry-run"],
      false,
    );
  });

  it("fills defaults, and a null in the payload is no value", () => {
    const r = resolveDispatch(reusable(), {}, { target: "staging", note: null });
    assert.deepEqual(r.problems, []);
    assert.equal(r.inputs.note, "none");
    assert.equal(r.eventInputs["dry-run"], "true");
    // An unset number has no value at all, as on GitHub.
    assert.equal(Object.hasOwn(r.eventInputs, "level"), false);
  });

  it("reports unknown, mistyped and missing inputs from either source, each on one line", () => {
    const r = resolveDispatch(reusable(), { "dry-run": "maybe\nnot" }, { colour: "red", level: "x" });
    assert.equal(r.problems.length, 4, r.problems.join(" | "));
    for (const p of r.problems) assert.equal(p.includes("\n"), false, p);
    assert.equal(resolveDispatch(reusable(), {}, ["target"]).problems.length, 2);
    assert.equal(resolveDispatch(reusable(), {}, { target: { deep: 1 } }).problems.length, 2);
    assert.equal(resolveDispatch(reusable(), {}, { constructor: "x", target: "staging" }).problems.length, 1);
  });
});
