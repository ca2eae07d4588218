// `airlock run workflow_dispatch` given inputs it cannot use, from --input or from the event
// payload's `inputs` (-e): one line naming the workflow and every problem, exit 2, nothing run.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeRepo, runAirlock } from "../helpers/repo.js";

const repo = makeRepo({
  ".github/workflows/ci.yml": `on:
  workflow_dispatch:
    inputs:
      flag:
        type: boolean
      size:
        type: choice
        options: [s, m]
        required: true
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - run: echo never
`,
});
after(() => repo.remove());

function payload(name: string, inputs: unknown): string {
  writeFileSync(join(repo.dir, name), JSON.stringify({ inputs }));
  return name;
}

describe("airlock run workflow_dispatch with bad inputs", () => {
  const cases: Array<[string, string[], RegExp]> = [
    ["an unknown --input", ["--input", "size=s", "--input", "colour=red"], /Unexpected input "colour"/],
    ["an unknown payload input", ["-e", payload("unknown.json", { size: "s", colour: "red" })], /"colour"/],
    ["a boolean that is not one", ["-e", payload("bool.json", { size: "s", flag: "yes" })], /'flag'.*"yes"/],
    ["a choice not offered", ["--input", "size=xl"], /'size' must be one of s, m, got "xl"/],
    ["a required input missing", [], /'size' is required/],
    ["payload inputs not a mapping", ["-e", payload("list.json", ["size"])], /'inputs' must be a mapping/],
    ["a value with a newline", ["--input", "size=a\nb"], /got "a\\nb"/],
  ];
  for (const [name, args, message] of cases) {
    it(name, async () => {
      const r = await runAirlock(repo.dir, ["run", "workflow_dispatch", ...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /^airlock: \.github\/workflows\/ci\.yml: [^\n]*\n$/);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, "");
    });
  }

  it("--input wins over the payload, so a bad payload value it replaces is no problem", async () => {
    const r = await runAirlock(repo.dir, [
      "run",
      "workflow_dispatch",
      "-e",
      payload("override.json", { size: "xl" }),
      "--input",
      "size=m",
      "--input",
      "colour=red",
    ]);
    // Only the unknown input is reported: the payload's bad size was replaced by --input.
    assert.equal(r.code, 2, r.stderr);
    assert.doesNotMatch(r.stderr, /size/);
    assert.match(r.stderr, /Unexpected input "colour"/);
  });
});
