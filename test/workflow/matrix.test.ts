// expandMatrix against the examples of GitHub's "Using a matrix for your jobs" documentation,
// with the combinations the documentation says they produce.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ErrorCode, isAirlockError } from "../../src/errors/index.js";
import { expandMatrix } from "../../src/workflow/index.js";

function rejects(matrix: Record<string, unknown>): void {
  assert.throws(
    () => expandMatrix(matrix),
    (err) => isAirlockError(err, ErrorCode.WORKFLOW_INVALID),
  );
}

describe("expandMatrix", () => {
  it("single-dimension matrix", () => {
    assert.deepEqual(expandMatrix({ version: [10, 12, 14] }), [
      { version: 10 },
      { version: 12 },
      { version: 14 },
    ]);
  });

  it("multi-dimension matrix: first key outermost", () => {
    assert.deepEqual(expandMatrix({ os: ["ubuntu-22.04", "ubuntu-20.04"], version: [10, 12, 14] }), [
      { os: "ubuntu-22.04", version: 10 },
      { os: "ubuntu-22.04", version: 12 },
      { os: "ubuntu-22.04", version: 14 },
      { os: "ubuntu-20.04", version: 10 },
      { os: "ubuntu-20.04", version: 12 },
      { os: "ubuntu-20.04", version: 14 },
    ]);
  });

  it("vectors of objects", () => {
    const platforms = [{ name: "a", arch: "x64" }, { name: "b" }];
    assert.deepEqual(expandMatrix({ platform: platforms }), [
      { platform: platforms[0] },
      { platform: platforms[1] },
    ]);
  });

  it("include: extends matching combinations, never overwrites originals, else adds (docs example)", () => {
    const result = expandMatrix({
      fruit: ["apple", "pear"],
      animal: ["cat", "dog"],
      include: [
        { color: "green" },
        { color: "pink", animal: "cat" },
        { fruit: "apple", shape: "circle" },
        { fruit: "banana" },
        { fruit: "banana", animal: "cat" },
      ],
    });
    assert.deepEqual(result, [
      { fruit: "apple", animal: "cat", color: "pink", shape: "circle" },
      { fruit: "apple", animal: "dog", color: "green", shape: "circle" },
      { fruit: "pear", animal: "cat", color: "pink" },
      { fruit: "pear", animal: "dog", color: "green" },
      { fruit: "banana" },
      { fruit: "banana", animal: "cat" },
    ]);
  });

  it("include: expanding one configuration (docs example)", () => {
    assert.deepEqual(
      expandMatrix({
        os: ["windows-latest", "ubuntu-latest"],
        node: [14, 16],
        include: [{ os: "windows-latest", node: 16, npm: 6 }],
      }),
      [
        { os: "windows-latest", node: 14 },
        { os: "windows-latest", node: 16, npm: 6 },
        { os: "ubuntu-latest", node: 14 },
        { os: "ubuntu-latest", node: 16 },
      ],
    );
  });

  it("include: an entry without original keys extends every combination", () => {
    assert.deepEqual(
      expandMatrix({ os: ["windows-latest", "ubuntu-latest"], node: [14], include: [{ site: "prod" }] }),
      [
        { os: "windows-latest", node: 14, site: "prod" },
        { os: "ubuntu-latest", node: 14, site: "prod" },
      ],
    );
  });

  it("only include (docs example)", () => {
    const include = [
      { site: "production", datacenter: "site-a" },
      { site: "staging", datacenter: "site-b" },
    ];
    assert.deepEqual(expandMatrix({ include }), include);
  });

  it("exclude: partial matches remove combinations (docs example: 12 - 3 = 9 jobs)", () => {
    const result = expandMatrix({
      os: ["macos-latest", "windows-latest"],
      version: [12, 14, 16],
      environment: ["staging", "production"],
      exclude: [
        { os: "macos-latest", version: 12, environment: "production" },
        { os: "windows-latest", version: 16 },
      ],
    });
    assert.equal(result.length, 9);
    assert.ok(!result.some((c) => c.os === "windows-latest" && c.version === 16));
    assert.ok(
      !result.some((c) => c.os === "macos-latest" && c.version === 12 && c.environment === "production"),
    );
    assert.ok(result.some((c) => c.os === "macos-latest" && c.version === 12 && c.environment === "staging"));
  });

  it("exclude is applied before include", () => {
    assert.deepEqual(
      expandMatrix({ os: ["a", "b"], exclude: [{ os: "b" }], include: [{ os: "b", extra: true }] }),
      [{ os: "a" }, { os: "b", extra: true }],
    );
  });

  it("rejects a matrix without combinations", () => {
    rejects({});
    rejects({ os: [] });
    rejects({ os: ["a"], exclude: [{ os: "a" }] });
  });

  it("rejects more than 256 combinations, accepts exactly 256", () => {
    const sixteen = Array.from({ length: 16 }, (_, i) => i);
    assert.equal(expandMatrix({ a: sixteen, b: sixteen }).length, 256);
    rejects({ a: sixteen, b: sixteen, include: [{ a: 99 }] });
    rejects({ a: sixteen, b: sixteen, c: sixteen, d: sixteen, e: sixteen });
  });

  it("rejects vectors that are not lists", () => {
    rejects({ os: "ubuntu" });
    rejects({ os: ["a"], include: { os: "b" } });
  });
});
