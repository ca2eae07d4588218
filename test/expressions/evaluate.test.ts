// Edge cases of bare expression evaluation, with the results GitHub documents for its expression language.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isAirlockError } from "../../src/errors/index.js";
import { evaluateExpression, toExpressionString, type Contexts } from "../../src/expressions/index.js";

const ctx: Contexts = {
  github: {
    ref: "refs/heads/main",
    event: {
      commits: [
        { message: "first", author: { name: "ann" } },
        { message: "second", author: { name: "bob" } },
      ],
      labels: { a: { name: "bug" }, b: { name: "docs" } },
    },
  },
  env: { COUNT: "3", EMPTY: "", JSON: '{"x":[1,"two",null,true]}' },
  matrix: { os: "linux", n: 2 },
};

/** [expression, expected value] — expected from GitHub's docs on operators, coercion and functions. */
const table: [string, unknown][] = [
  // Literals and coercion in ==
  ["'' == 0", true],
  ["null == 0", true],
  ["null == ''", true],
  ["true == 1", true],
  ["false == 0", true],
  ["'abc' == 'ABC'", true],
  ["'abc' != 'ABD'", true],
  ["1 == '1'", true],
  ["'1.0' == 1", true],
  ["'abc' == 0", false],
  ["NaN == NaN", false],
  ["fromJSON('[]') == fromJSON('[]')", false],
  ["fromJSON('{}') == 0", false],
  ["2 > '1'", true],
  ["'b' > 'A'", true],
  ["'a' < 'B'", true],
  ["1 >= 1", true],
  ["null < 1", true],
  ["0x10", 16],
  ["-1.5", -1.5],
  ["1e3", 1000],
  ["'it''s'", "it's"],
  // Logical operators return operand values; ! returns a boolean
  ["'a' && 'b'", "b"],
  ["'a' && 0", 0],
  ["'' && 'b'", ""],
  ["null || 'd'", "d"],
  ["0 || null", null],
  ["1 || fromJSON('bad json')", 1],
  ["!''", true],
  ["!'0'", false],
  ["!0", true],
  ["!fromJSON('[]')", false],
  ["!null", true],
  // Context access: case-insensitive, missing → null, index and filters
  ["github.REF", "refs/heads/main"],
  ["GITHUB.ref", "refs/heads/main"],
  ["github['ref']", "refs/heads/main"],
  ["github.missing", null],
  ["github.missing.deeper", null],
  ["steps.build.outputs.x", null],
  ["github.event.commits[1].message", "second"],
  ["github.event.commits[5].message", null],
  ["github.event.commits[0].AUTHOR.Name", "ann"],
  ["github.event.commits.*.message", ["first", "second"]],
  ["github.event.commits.*.author.name", ["ann", "bob"]],
  ["github.event.labels.*.name", ["bug", "docs"]],
  ["github.ref.*", []],
  ["matrix.n", 2],
  // Functions
  ["contains('Hello world', 'WORLD')", true],
  ["contains(fromJSON('[\"a\"]'), 'a')", true],
  ["contains(fromJSON('[\"a\"]'), 'b')", false],
  ["contains(fromJSON('[1, 2]'), '2')", true],
  ["contains(github.event.commits.*.message, 'second')", true],
  ["contains('abc1', 1)", true],
  ["startsWith('Hello', 'he')", true],
  ["endsWith('Hello', 'LO')", true],
  ["endsWith(12, 2)", true],
  ["format('{0} {1}', 'a', 'b')", "a b"],
  ["format('{{0}} {0}', 'x')", "{0} x"],
  ["format('{{Hello {0}!}}', 'Mona')", "{Hello Mona!}"],
  ["format('{0}|{1}|{2}|{3}', null, true, 1.5, 1e21)", "|true|1.5|1E+21"],
  ["join(github.event.commits.*.message)", "first,second"],
  ["join(github.event.commits.*.message, ' + ')", "first + second"],
  ["join(fromJSON('[1, true, null, \"s\"]'), ', ')", "1, true, , s"],
  ["join('abc', '-')", "abc"],
  ["join(fromJSON('[]'))", ""],
  ["toJSON('a')", '"a"'],
  ["toJSON(matrix)", '{\n  "os": "linux",\n  "n": 2\n}'],
  ["toJSON(null)", "null"],
  ["fromJSON(env.JSON)", { x: [1, "two", null, true] }],
  ["fromJSON(env.COUNT)", 3],
  ["fromJSON('true')", true],
  ["fromJSON(toJSON(github.event))", (ctx.github as { event: unknown }).event],
  ["fromJSON(env.JSON).x[1]", "two"],
  ["FROMJSON('1') == 1", true],
];

void describe("evaluateExpression: GitHub's documented semantics", () => {
  for (const [expr, expected] of table) {
    void it(`${expr} → ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(evaluateExpression(expr, ctx), expected);
    });
  }
});

void describe("evaluateExpression: errors", () => {
  const cases: [string, string][] = [
    ["1 +", "EXPRESSION_INVALID"],
    ["github.ref ==", "EXPRESSION_INVALID"],
    ["'unterminated", "EXPRESSION_INVALID"],
    ["a = b", "EXPRESSION_INVALID"],
    ["nosuchcontext.x", "EXPRESSION_INVALID"],
    ["", "EXPRESSION_INVALID"],
    ["contains('a')", "EXPRESSION_INVALID"],
    ["nosuchfunction()", "EXPRESSION_FAILED"],
    ["fromJSON('{bad')", "EXPRESSION_FAILED"],
    ["fromJSON('')", "EXPRESSION_FAILED"],
    ["format('{0} {1}', 'only one')", "EXPRESSION_FAILED"],
    ["format('{x}', 1)", "EXPRESSION_FAILED"],
    ["hashFiles('**/*.lock')", "EXPRESSION_FAILED"],
  ];
  for (const [expr, code] of cases) {
    void it(`${JSON.stringify(expr)} throws ${code}`, () => {
      assert.throws(
        () => evaluateExpression(expr, ctx),
        (e: unknown) => isAirlockError(e) && e.code === code,
      );
    });
  }

  void it("contexts supplied by the caller are accepted even if GitHub has no such name", () => {
    assert.equal(evaluateExpression("custom.value", { custom: { value: 7 } }), 7);
  });
});

void describe("status functions and hashFiles through the host", () => {
  const failed = { status: { failed: true, cancelled: false } };
  const cancelled = { status: { failed: false, cancelled: true } };
  void it("success/failure/cancelled/always follow the host status", () => {
    assert.deepEqual(
      ["success()", "failure()", "cancelled()", "always()"].map((f) => evaluateExpression(f, {})),
      [true, false, false, true],
    );
    assert.deepEqual(
      ["success()", "failure()", "cancelled()", "always()"].map((f) => evaluateExpression(f, {}, failed)),
      [false, true, false, true],
    );
    assert.deepEqual(
      ["success()", "failure()", "cancelled()", "always()"].map((f) => evaluateExpression(f, {}, cancelled)),
      [false, false, true, true],
    );
  });

  void it("hashFiles passes every pattern to the host and returns its answer", () => {
    const seen: string[][] = [];
    const host = {
      hashFiles: (p: string[]) => {
        seen.push(p);
        return "abc";
      },
    };
    assert.equal(evaluateExpression("hashFiles('**/package-lock.json', '!x/**')", {}, host), "abc");
    assert.deepEqual(seen, [["**/package-lock.json", "!x/**"]]);
  });
});

void describe("toExpressionString: GitHub's string coercion", () => {
  const cases: [unknown, string][] = [
    [null, ""],
    [undefined, ""],
    [true, "true"],
    [false, "false"],
    [1, "1"],
    [1.0, "1"],
    [-0, "0"],
    [0.5, "0.5"],
    [0.1 + 0.2, "0.3"],
    [100, "100"],
    [123456789012345, "123456789012345"],
    [1e15, "1E+15"],
    [1e21, "1E+21"],
    [123456789012345680, "1.23456789012346E+17"],
    [1e-5, "1E-05"],
    [1e-7, "1E-07"],
    [0.0001, "0.0001"],
    [-2.5, "-2.5"],
    [NaN, "NaN"],
    [Infinity, "Infinity"],
    ["text", "text"],
    [["a", 1], '[\n  "a",\n  1\n]'],
    [{ a: { b: null } }, '{\n  "a": {\n    "b": null\n  }\n}'],
  ];
  for (const [v, s] of cases) {
    void it(`${String(v)} → ${JSON.stringify(s)}`, () => assert.equal(toExpressionString(v), s));
  }
});
