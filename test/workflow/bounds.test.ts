// Hostile workflow and action files: an alias bomb, deep nesting and an oversized file each give
// one problem with file:line:col instead of expanding; parsing runs in a worker thread (the event
// loop keeps turning while it works) and a parse past its time limit is refused.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  MAX_FILE_BYTES,
  parseActionManifest,
  parseActionManifestOffLoop,
  parseWorkflow,
  parseWorkflowOffLoop,
} from "../../src/workflow/index.js";

/** A few hundred bytes that expand to 10^7 nodes. */
function aliasBomb(prefix: string): string {
  const level = (name: string, item: string): string =>
    `${name}: &${name} [${Array(10).fill(item).join(", ")}]\n`;
  return (
    prefix +
    level("a", '"lol"') +
    level("b", "*a") +
    level("c", "*b") +
    level("d", "*c") +
    level("e", "*d") +
    level("f", "*e") +
    level("g", "*f")
  );
}

const VALID = `on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: echo "\${{ github.sha }}"
`;

function deep(levels: number): string {
  return `on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: echo
        env: { X: ${"[".repeat(levels)}${"]".repeat(levels)} }
`;
}

describe("workflow and action bounds", () => {
  it("an alias bomb workflow is one problem at the alias, not an expansion", () => {
    const bomb = aliasBomb("on: push\n");
    assert.ok(bomb.length < 1024);
    const { workflow, problems } = parseWorkflow(".github/workflows/bomb.yml", bomb);
    assert.equal(workflow, undefined);
    assert.equal(problems.length, 1, JSON.stringify(problems));
    assert.match(problems[0]!.message, /expands to more than \d+ YAML nodes/);
    assert.equal(problems[0]!.file, ".github/workflows/bomb.yml");
    assert.ok(problems[0]!.line > 1);
  });

  it("an alias bomb action.yml is refused the same way", () => {
    const { manifest, problems } = parseActionManifest("x/action.yml", aliasBomb("name: x\n"));
    assert.equal(manifest, undefined);
    assert.equal(problems.length, 1);
    assert.match(problems[0]!.message, /expands to more than/);
  });

  it("deep nesting and oversized files are one problem each", () => {
    const nested = parseWorkflow("w.yml", deep(100)).problems;
    assert.equal(nested.length, 1);
    assert.match(nested[0]!.message, /nests more than \d+ levels/);
    const big = parseWorkflow("w.yml", `${VALID}#${"x".repeat(MAX_FILE_BYTES)}\n`).problems;
    assert.equal(big.length, 1);
    assert.match(big[0]!.message, /at most \d+ bytes/);
    assert.deepEqual(parseWorkflow("w.yml", VALID).problems, []);
  });

  it("parses in a worker: same result, and the event loop turns while it works", async () => {
    assert.deepEqual(await parseWorkflowOffLoop("w.yml", VALID), parseWorkflow("w.yml", VALID));
    assert.deepEqual(
      await parseActionManifestOffLoop("action.yml", "name: a\nruns:\n  using: node20\n  main: index.js\n"),
      parseActionManifest("action.yml", "name: a\nruns:\n  using: node20\n  main: index.js\n"),
    );
    // An expensive file (deep nesting the YAML library gives up on only after a long climb):
    // a timer queued after the parse started fires before the parse answers. Parsed on the event
    // loop, the parse would answer first.
    const order: string[] = [];
    const parsing = parseWorkflowOffLoop("w.yml", deep(20_000)).then((r) => {
      order.push("parse");
      return r;
    });
    await new Promise((r) => setTimeout(r, 0));
    order.push("timer");
    const r = await parsing;
    assert.deepEqual(order, ["timer", "parse"]);
    assert.equal(r.problems.length, 1, JSON.stringify(r.problems));
    assert.match(r.problems[0]!.message, /nests more than/);
  });

  it("a parse past its time limit is refused, and the next one works", async () => {
    const r = await parseWorkflowOffLoop("w.yml", deep(200_000), { timeoutMs: 50 });
    assert.equal(r.workflow, undefined);
    assert.equal(r.problems.length, 1);
    assert.match(r.problems[0]!.message, /Parsing took longer than/);
    const ok = await parseWorkflowOffLoop("w.yml", VALID);
    assert.ok(ok.workflow);
  });
});
