// parseActionManifest, table-driven from test/fixtures/workflows/actions/<name>/action.yml.
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { parseActionManifest } from "../../src/workflow/index.js";
import { FIXTURES, expectedPositions, positions, read } from "./fixtures.js";

describe("parseActionManifest: fixtures", () => {
  for (const name of readdirSync(path.join(FIXTURES, "actions")).sort()) {
    it(name, () => {
      const result = parseActionManifest(`${name}/action.yml`, read("actions", name, "action.yml"));
      const files = readdirSync(path.join(FIXTURES, "actions", name));
      if (files.includes("expected.json")) {
        assert.deepEqual(result.problems, []);
        assert.deepEqual(result.manifest, JSON.parse(read("actions", name, "expected.json")));
      } else {
        assert.equal(result.manifest, undefined);
        assert.deepEqual(positions(result.problems), expectedPositions("actions", name, "expected.problems"));
      }
    });
  }
});

describe("parseActionManifest: details", () => {
  it("accepts every supported node version", () => {
    for (const using of ["node12", "node16", "node20", "node24"]) {
      const r = parseActionManifest(
        "a.yml",
        `name: n\ndescription: d\nruns:\n  using: ${using}\n  main: i.js\n`,
      );
      assert.deepEqual(r.problems, []);
      assert.equal(r.manifest?.runs.using, using);
    }
  });

  it("reports an unknown runtime with its position", () => {
    const r = parseActionManifest("a.yml", "name: n\ndescription: d\nruns:\n  using: node8\n  main: i.js\n");
    assert.equal(r.manifest, undefined);
    assert.ok(r.problems.length > 0);
    assert.equal(r.problems[0]?.line, 4);
  });

  it("defaults inputs to not required and keeps numeric defaults as written", () => {
    const r = parseActionManifest(
      "a.yml",
      "name: n\ndescription: d\ninputs:\n  x:\n    description: x\n    default: 3\nruns:\n  using: node20\n  main: i.js\n",
    );
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.manifest?.inputs.x, { required: false, default: 3 });
  });

  it("reports a missing runs section", () => {
    const r = parseActionManifest("a.yml", "name: n\ndescription: d\n");
    assert.equal(r.manifest, undefined);
    assert.ok(r.problems.length > 0);
  });
});
