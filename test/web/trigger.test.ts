// The "Run workflow" form's inputs: one name=value per line, blank lines skipped, values kept as
// typed (also with "=" in them), lines without a name refused by number.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseInputs } from "../../web/src/lib/inputs.js";

describe("run workflow inputs", () => {
  it("reads name=value lines and names the lines that are not", () => {
    assert.deepEqual(parseInputs("a=1\n\n b = two words \nc=x=y\n"), {
      inputs: { a: "1", b: " two words ", c: "x=y" },
      bad: [],
    });
    assert.deepEqual(parseInputs("ok=1\nnot a pair\n=novalue\n"), { inputs: { ok: "1" }, bad: [2, 3] });
    assert.deepEqual(parseInputs(""), { inputs: {}, bad: [] });
  });
});
