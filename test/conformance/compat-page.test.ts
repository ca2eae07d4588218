// docs/compatibility.md stays true: every conformance case is named on the page, every case the
// page names in its "tested by" column exists, and every test file or folder it names exists.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..", "..");
const page = readFileSync(join(root, "docs", "compatibility.md"), "utf8");
const cases = readdirSync(join(root, "test", "conformance", "cases")).sort();

/** The third cell of every table row (the "tested by" column). */
function testedBy(): string[] {
  return page
    .split("\n")
    .filter(
      (l) =>
        l.startsWith("| ") &&
        !l.startsWith("| ---") &&
        !l.startsWith("| feature") &&
        !l.startsWith("| event"),
    )
    .map(
      (l) =>
        l
          .split(" | ")[2]
          ?.replace(/\|\s*$/, "")
          .trim() ?? "",
    );
}

describe("docs/compatibility.md", () => {
  it("names every conformance case", () => {
    const cells = testedBy().join(" ");
    const missing = cases.filter((c) => !cells.includes(`\`${c}\``));
    assert.deepEqual(missing, [], "cases not on the page");
  });

  it("names only cases that exist", () => {
    const named = testedBy().flatMap((c) => [...c.matchAll(/`([a-z0-9-]+)`/g)].map((m) => m[1]!));
    assert.ok(named.length >= cases.length);
    assert.deepEqual(
      named.filter((n) => !cases.includes(n)),
      [],
    );
  });

  it("names only test files and folders that exist", () => {
    const paths = testedBy().flatMap((c) =>
      [...c.matchAll(/\btest\/[\w./-]+/g)].map((m) => m[0].replace(/[.,]$/, "")),
    );
    assert.ok(paths.length > 0);
    assert.deepEqual(
      paths.filter((p) => !existsSync(join(root, p))),
      [],
    );
  });
});
