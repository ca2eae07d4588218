// `${{ }}` templates, `if:` conditions and syntax checks.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isAirlockError } from "../../src/errors/index.js";
import {
  checkConditionSyntax,
  evaluateCondition,
  evaluateStringMap,
  evaluateTemplate,
  evaluateToString,
  findExpressionProblems,
  type Contexts,
} from "../../src/expressions/index.js";

const ctx: Contexts = {
  github: { ref: "refs/heads/main", event_name: "push", event: { n: 1 } },
  env: { KEY: "name", JSON: '{"a":[1,2]}', ZERO: "0" },
  matrix: { node: 20 },
};
const ok = { status: { failed: false, cancelled: false } };
const failed = { status: { failed: true, cancelled: false } };
const cancelled = { status: { failed: false, cancelled: true } };

function throwsCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => isAirlockError(e) && e.code === code);
}

void describe("evaluateTemplate", () => {
  void it("a string that is exactly one expression keeps the value's type", () => {
    assert.deepEqual(evaluateTemplate("${{ fromJSON(env.JSON) }}", ctx), { a: [1, 2] });
    assert.equal(evaluateTemplate("  ${{ matrix.node }}  ", ctx), 20);
    assert.equal(evaluateTemplate("${{ true }}", ctx), true);
    assert.equal(evaluateTemplate("${{ null }}", ctx), null);
    assert.equal(evaluateTemplate("${{github.missing}}", ctx), null);
  });

  void it("other strings are interpolated with GitHub's string coercion", () => {
    assert.equal(evaluateTemplate("node-${{ matrix.node }}", ctx), "node-20");
    assert.equal(evaluateTemplate("${{ 1 }}${{ 2 }}", ctx), "12");
    assert.equal(evaluateTemplate("[${{ null }}|${{ false }}|${{ 1.50 }}]", ctx), "[|false|1.5]");
    assert.equal(evaluateTemplate("e: ${{ github.event }}", ctx), 'e: {\n  "n": 1\n}');
  });

  void it("finds the closing braces outside string literals", () => {
    assert.equal(evaluateTemplate("${{ format('{0}}}', 'a') }}", ctx), "a}");
    assert.equal(evaluateTemplate("x ${{ 'it''s }}' }} y", ctx), "x it's }} y");
  });

  void it("leaves strings without ${{ and non-strings untouched", () => {
    assert.equal(evaluateTemplate("plain }} {{ $ {{ text", ctx), "plain }} {{ $ {{ text");
    assert.equal(evaluateTemplate(5, ctx), 5);
    assert.equal(evaluateTemplate(false, ctx), false);
    assert.equal(evaluateTemplate(null, ctx), null);
  });

  void it("goes deep through arrays and objects, keys included", () => {
    const input = { "${{ env.KEY }}": ["${{ matrix.node }}", { inner: "v${{ matrix.node }}" }], fixed: 1 };
    assert.deepEqual(evaluateTemplate(input, ctx), { name: [20, { inner: "v20" }], fixed: 1 });
    // The input is not modified.
    assert.equal(Object.keys(input)[0], "${{ env.KEY }}");
  });

  void it("rejects unterminated and empty expressions", () => {
    throwsCode(() => evaluateTemplate("a ${{ github.ref", ctx), "EXPRESSION_INVALID");
    throwsCode(() => evaluateTemplate("a ${{ }} b", ctx), "EXPRESSION_INVALID");
    throwsCode(() => evaluateTemplate(["${{ 1 + }}"], ctx), "EXPRESSION_INVALID");
    throwsCode(() => evaluateTemplate("${{ fromJSON('nope') }}", ctx), "EXPRESSION_FAILED");
  });

  void it("evaluateToString coerces the result", () => {
    assert.equal(evaluateToString("${{ 1.0 }}", ctx), "1");
    assert.equal(evaluateToString("${{ null }}", ctx), "");
    assert.equal(evaluateToString("${{ matrix.node > 3 }}", ctx), "true");
    assert.equal(evaluateToString(42, ctx), "42");
    assert.equal(evaluateToString(["${{ matrix.node }}"], ctx), "[\n  20\n]");
  });
});

void describe("${{ insert }} and sequence splicing (actions/runner TemplateUnraveler)", () => {
  void it("a sequence item that evaluates to a sequence is spliced into its sequence", () => {
    const items = ["a", '${{ fromJSON(\'["b", "c"]\') }}', "d"];
    assert.deepEqual(evaluateTemplate(items, ctx), ["a", "b", "c", "d"]);
    // An empty sequence contributes nothing; a non-sequence result stays one item.
    assert.deepEqual(evaluateTemplate(["a", "${{ fromJSON('[]') }}", "${{ matrix.node }}"], ctx), ["a", 20]);
    // Only one level: a spliced sequence's own nested sequences stay nested, its strings are values.
    assert.deepEqual(evaluateTemplate(["${{ fromJSON('[[1], \"${{ x }}\"]') }}"], ctx), [[1], "${{ x }}"]);
    // Text around the expression makes it a string, never a splice.
    assert.deepEqual(evaluateTemplate(["v${{ fromJSON('[1]') }}"], ctx), ["v[\n  1\n]"]);
  });

  void it("splices inside matrix vectors and include lists", () => {
    const matrix = {
      os: ["linux", '${{ fromJSON(\'["mac", "win"]\') }}'],
      include: ['${{ fromJSON(\'[{"os": "bsd"}]\') }}', { os: "${{ env.KEY }}" }],
    };
    assert.deepEqual(evaluateTemplate(matrix, ctx), {
      os: ["linux", "mac", "win"],
      include: [{ os: "bsd" }, { os: "name" }],
    });
  });

  void it("${{ insert }} merges a mapping an expression gives, in place", () => {
    const env = { A: "1", "${{ insert }}": '${{ fromJSON(\'{"B": 2, "C": "${{ x }}"}\') }}', D: "4" };
    const out = evaluateTemplate(env, ctx) as Record<string, unknown>;
    assert.deepEqual(out, { A: "1", B: 2, C: "${{ x }}", D: "4" });
    assert.deepEqual(Object.keys(out), ["A", "B", "C", "D"]);
  });

  void it("${{ insert }} with a mapping as written evaluates that mapping", () => {
    const env = { "${{insert}}": { "${{ env.KEY }}": "${{ matrix.node }}", plain: "p" } };
    assert.deepEqual(evaluateTemplate(env, ctx), { name: 20, plain: "p" });
    // Nested mappings keep their own insertions.
    const nested = { outer: { "${{ insert }}": "${{ fromJSON('{\"k\": true}') }}" } };
    assert.deepEqual(evaluateTemplate(nested, ctx), { outer: { k: true } });
  });

  void it("never lets a __proto__ key an insertion brings become the object's prototype", () => {
    const out = evaluateTemplate(
      { a: 1, "${{ insert }}": '${{ fromJSON(\'{"__proto__": {"polluted": 1}}\') }}' },
      ctx,
    ) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.equal(out.polluted, undefined);
    assert.equal(out.a, 1);
    // A key written as __proto__ (YAML gives it as an own property) stays a plain key.
    const written = JSON.parse('{"__proto__": {"polluted": "${{ matrix.node }}"}}') as Record<
      string,
      unknown
    >;
    const kept = evaluateTemplate(written, ctx) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(kept), Object.prototype);
    assert.equal(kept.polluted, undefined);
    assert.deepEqual(Object.getOwnPropertyDescriptor(kept, "__proto__")?.value, { polluted: 20 });
    const env = evaluateStringMap({ "${{ insert }}": '${{ fromJSON(\'{"__proto__": {"x": 1}}\') }}' }, ctx);
    assert.equal(Object.getPrototypeOf(env), Object.prototype);
    assert.equal((env as Record<string, unknown>).x, undefined);
  });

  void it("an empty mapping inserts nothing", () => {
    assert.deepEqual(evaluateTemplate({ a: 1, "${{ insert }}": "${{ fromJSON('{}') }}" }, ctx), { a: 1 });
  });

  void it("refuses an insertion that is not a mapping, and keys defined twice", () => {
    throwsCode(
      () => evaluateTemplate({ "${{ insert }}": "${{ fromJSON('[1]') }}" }, ctx),
      "EXPRESSION_FAILED",
    );
    throwsCode(() => evaluateTemplate({ "${{ insert }}": "${{ null }}" }, ctx), "EXPRESSION_FAILED");
    throwsCode(() => evaluateTemplate({ "${{ insert }}": "text" }, ctx), "EXPRESSION_FAILED");
    throwsCode(
      () => evaluateTemplate({ A: "1", "${{ insert }}": "${{ fromJSON('{\"a\": 2}') }}" }, ctx),
      "EXPRESSION_FAILED",
    );
  });

  void it("evaluateStringMap gives env/with values as strings, insertions included", () => {
    const env = {
      N: "${{ matrix.node }}",
      "${{ insert }}": '${{ fromJSON(\'{"B": true, "O": {"x": 1}}\') }}',
    };
    assert.deepEqual(evaluateStringMap(env, ctx), { N: "20", B: "true", O: '{\n  "x": 1\n}' });
    assert.deepEqual(evaluateStringMap(undefined, ctx), {});
  });
});

void describe("evaluateCondition", () => {
  void it("empty or missing condition means success()", () => {
    assert.equal(evaluateCondition(undefined, ctx), true);
    assert.equal(evaluateCondition("  ", ctx, ok), true);
    assert.equal(evaluateCondition(undefined, ctx, failed), false);
    assert.equal(evaluateCondition("", ctx, cancelled), false);
  });

  void it("accepts the condition with or without ${{ }}", () => {
    assert.equal(evaluateCondition("github.ref == 'refs/heads/main'", ctx), true);
    assert.equal(evaluateCondition("${{ github.ref == 'refs/heads/MAIN' }}", ctx), true);
    assert.equal(evaluateCondition(" ${{ github.event_name == 'pull_request' }} ", ctx), false);
  });

  void it("without a status function it is success() && (cond)", () => {
    assert.equal(evaluateCondition("true", ctx, failed), false);
    assert.equal(evaluateCondition("true", ctx, cancelled), false);
    // The condition is not evaluated at all once the job failed (it would throw otherwise).
    assert.equal(evaluateCondition("fromJSON('bad')", ctx, failed), false);
    throwsCode(() => evaluateCondition("fromJSON('bad')", ctx, ok), "EXPRESSION_FAILED");
  });

  void it("with a status function the expression decides alone", () => {
    assert.equal(evaluateCondition("failure() || true", ctx, ok), true);
    assert.equal(evaluateCondition("failure() || true", ctx, failed), true);
    assert.equal(evaluateCondition("failure()", ctx, ok), false);
    assert.equal(evaluateCondition("failure()", ctx, failed), true);
    assert.equal(evaluateCondition("always()", ctx, cancelled), true);
    assert.equal(evaluateCondition("${{ cancelled() }}", ctx, cancelled), true);
    assert.equal(evaluateCondition("success()", ctx, cancelled), false);
    assert.equal(evaluateCondition("!cancelled() && github.ref == 'refs/heads/main'", ctx, failed), true);
    assert.equal(evaluateCondition("Always()", ctx, failed), true);
  });

  void it("truthiness follows GitHub's rules", () => {
    assert.equal(evaluateCondition("0", ctx), false);
    assert.equal(evaluateCondition("env.ZERO", ctx), true); // the string '0' is non-empty
    assert.equal(evaluateCondition("fromJSON(env.ZERO)", ctx), false);
    assert.equal(evaluateCondition("''", ctx), false);
    assert.equal(evaluateCondition("github.missing", ctx), false);
    assert.equal(evaluateCondition("fromJSON('[]')", ctx), true);
    assert.equal(evaluateCondition("github.ref", ctx), true);
  });

  void it("text mixing literals and ${{ }} is a non-empty string, hence true (GitHub's pitfall)", () => {
    assert.equal(evaluateCondition("${{ false }} && true", ctx), true);
    assert.equal(evaluateCondition("${{ false }} && true", ctx, failed), false);
  });

  void it("reports syntax errors with EXPRESSION_INVALID", () => {
    throwsCode(() => evaluateCondition("github.ref ==", ctx), "EXPRESSION_INVALID");
    throwsCode(() => evaluateCondition("${{ github.ref", ctx), "EXPRESSION_INVALID");
  });
});

void describe("syntax checks", () => {
  void it("findExpressionProblems reports every bad expression and nothing for good ones", () => {
    assert.deepEqual(findExpressionProblems("no expressions here"), []);
    assert.deepEqual(
      findExpressionProblems(
        "${{ github.ref }} ${{ hashFiles('a', 'b') }} ${{ success() }} ${{ matrix.x[0] }}",
      ),
      [],
    );
    const problems = findExpressionProblems("${{ 1 + }} ok ${{ nosuch.ctx }} ${{ github.ref }} ${{ bad( }}");
    assert.equal(problems.length, 3);
    assert.equal(findExpressionProblems("${{ }}").length, 1);
    assert.equal(findExpressionProblems("a ${{ github.ref }} b ${{ github.ref").length, 1);
    assert.equal(findExpressionProblems("${{ nosuchfunction() }}").length, 1);
  });

  void it("checkConditionSyntax handles bare and wrapped conditions", () => {
    assert.deepEqual(checkConditionSyntax("success() && github.ref == 'x'"), []);
    assert.deepEqual(checkConditionSyntax("${{ always() }}"), []);
    assert.deepEqual(checkConditionSyntax(""), []);
    assert.equal(checkConditionSyntax("github.ref ==").length, 1);
    assert.equal(checkConditionSyntax("${{ github.ref == }}").length, 1);
    assert.equal(checkConditionSyntax("${{ github.ref").length, 1);
  });
});
