// parseWorkflow, table-driven from test/fixtures/workflows: valid files against their expected
// model, invalid files against their expected list of line:col problems.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseWorkflow } from "../../src/workflow/index.js";
import { expectedPositions, fixtureNames, positions, read } from "./fixtures.js";

describe("parseWorkflow: valid fixtures", () => {
  for (const name of fixtureNames("valid", ".yml")) {
    it(`${name}.yml gives the expected model`, () => {
      const result = parseWorkflow(`.github/workflows/${name}.yml`, read("valid", `${name}.yml`));
      assert.deepEqual(result.problems, []);
      assert.deepEqual(result.workflow, JSON.parse(read("valid", `${name}.json`)));
    });
  }
});

describe("parseWorkflow: invalid fixtures", () => {
  for (const name of fixtureNames("invalid", ".yml")) {
    it(`${name}.yml reports every problem with its position`, () => {
      const result = parseWorkflow(`wf/${name}.yml`, read("invalid", `${name}.yml`));
      assert.equal(result.workflow, undefined);
      assert.deepEqual(positions(result.problems), expectedPositions("invalid", `${name}.problems`));
      for (const p of result.problems) {
        assert.equal(p.file, `wf/${name}.yml`);
        assert.ok(p.message.length > 0);
      }
    });
  }
});

describe("parseWorkflow: model details", () => {
  const wf = (text: string) => {
    const r = parseWorkflow("w.yml", text);
    assert.deepEqual(r.problems, []);
    assert.ok(r.workflow);
    return r.workflow;
  };

  it("keeps expression text exactly, including block scalars and quotes", () => {
    const w = wf(
      'on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: >-\n          echo ${{ matrix.os }}\n          "${{ env.A }}"\n',
    );
    assert.equal(w.jobs[0]?.steps[0]?.run, 'echo ${{ matrix.os }} "${{ env.A }}"');
  });

  it("strips a surrounding ${{ }} from if, keeps bare conditions, formats mixed text", () => {
    const w = wf(
      [
        "on: push",
        "jobs:",
        "  a:",
        "    runs-on: x",
        "    if: ${{ github.ref == 'refs/heads/main' }}",
        "    steps:",
        "      - run: echo",
        "        if: failure() || cancelled()",
        "      - run: echo",
        "        if: v${{ 1 }}",
        "      - run: echo",
        "        if: false",
      ].join("\n"),
    );
    assert.equal(w.jobs[0]?.if, "github.ref == 'refs/heads/main'");
    assert.equal(w.jobs[0]?.steps[0]?.if, "failure() || cancelled()");
    assert.equal(w.jobs[0]?.steps[1]?.if, "format('v{0}', 1)");
    assert.equal(w.jobs[0]?.steps[2]?.if, "false");
  });

  it("normalises on: in string, list and mapping forms", () => {
    const base = "jobs:\n  a:\n    runs-on: x\n    steps: [{run: echo}]\n";
    assert.deepEqual(wf(`on: push\n${base}`).on, { push: {} });
    assert.deepEqual(wf(`on: [push, pull_request]\n${base}`).on, { push: {}, pull_request: {} });
    assert.deepEqual(wf(`on:\n  push:\n    tags: v*\n  workflow_dispatch:\n${base}`).on, {
      push: { tags: ["v*"] },
      workflow_dispatch: {},
    });
  });

  it("uses the file path as name when name: is absent and a string needs as a list", () => {
    const w = wf(
      "on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{run: echo}]\n  b:\n    needs: a\n    uses: ./x.yml\n",
    );
    assert.equal(w.name, "w.yml");
    assert.deepEqual(w.jobs[1]?.needs, ["a"]);
    assert.deepEqual(w.jobs[1]?.steps, []);
  });

  it("resolves YAML anchors and aliases", () => {
    const w = wf(
      "on: push\nenv: &e\n  A: ${{ github.sha }}\njobs:\n  a:\n    runs-on: x\n    env: *e\n    steps: [{run: echo}]\n",
    );
    assert.deepEqual(w.jobs[0]?.env, { A: "${{ github.sha }}" });
  });

  it("is JSON-serialisable without loss", () => {
    const w = wf(read("valid", "ci.yml"));
    assert.deepEqual(JSON.parse(JSON.stringify(w)), w);
  });

  // Inline rather than a fixture file: formatters refuse to parse a broken YAML file.
  it("reports YAML syntax errors with their position and nothing misleading after them", () => {
    const r = parseWorkflow("w.yml", "on: push\njobs:\n  a: [1\n");
    assert.equal(r.workflow, undefined);
    assert.deepEqual(positions(r.problems), ["4:1"]);
    assert.ok(!r.problems[0]?.message.includes("\n"));
  });

  it("reports a file that is not a mapping", () => {
    const r = parseWorkflow("w.yml", "- just\n- a list\n");
    assert.equal(r.workflow, undefined);
    assert.ok(r.problems.length > 0);
    assert.equal(r.problems[0]?.line, 1);
  });
});
