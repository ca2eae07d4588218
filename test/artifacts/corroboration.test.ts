// The verdict rules of independent rebuilds (src/artifacts/corroboration), on plain builds: which
// status each combination of digests, operators and worker trust gives, and how many replicas a
// policy asks for. The real jobs, nodes and reports: test/e2e/corroboration.test.ts.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { corroborates, judge, replicasFor, type Build } from "../../src/artifacts/index.js";

const A = "a".repeat(64);
const B = "b".repeat(64);

let nextJob = 1;
function build(o: { sha?: string; operator: string; trusted?: boolean; node?: string }): Build {
  const jobId = nextJob++;
  return {
    jobId,
    nodeId: jobId,
    node: o.node ?? `n${jobId}`,
    operator: o.operator === "" ? null : o.operator,
    operatorKey: o.operator,
    trusted: o.trusted ?? false,
    artifacts: new Map(o.sha === undefined ? [] : [["app", { id: jobId * 10, sha256: o.sha }]]),
  };
}

describe("judge", () => {
  it("one build alone: unverified (its single-build status comes from attest)", () => {
    assert.equal(judge("app", [build({ sha: A, operator: "alice" })], 2).status, "unverified");
  });

  it("two operators, same bytes: corroborated; the same operator twice is not independent", () => {
    const two = [build({ sha: A, operator: "alice" }), build({ sha: A, operator: "bob" })];
    assert.equal(judge("app", two, 2).status, "corroborated");
    const same = [build({ sha: A, operator: "alice" }), build({ sha: A, operator: "alice" })];
    assert.equal(judge("app", same, 2).status, "unverified");
    // Untrusted nodes nobody named an operator for are no independent witnesses.
    const nameless = [build({ sha: A, operator: "node:1" }), build({ sha: A, operator: "node:2" })];
    assert.equal(judge("app", nameless, 2).status, "unverified");
  });

  it("agree k: fewer distinct agreeing operators than k stays unverified; k = 1 still needs two", () => {
    const two = [build({ sha: A, operator: "alice" }), build({ sha: A, operator: "bob" })];
    assert.equal(judge("app", two, 3).status, "unverified");
    assert.equal(judge("app", two, 1).status, "corroborated");
    assert.equal(judge("app", [build({ sha: A, operator: "alice" })], 1).status, "unverified");
  });

  it("a trusted worker's identical build: trusted, even after an untrusted one built it first", () => {
    const v = judge(
      "app",
      [build({ sha: A, operator: "carol" }), build({ sha: A, operator: "", trusted: true })],
      2,
    );
    assert.equal(v.status, "trusted");
  });

  it("one byte different anywhere: mismatch, naming the differing builds; a trusted one does not outvote it", () => {
    const evil = build({ sha: B, operator: "mallory" });
    const v = judge(
      "app",
      [build({ sha: A, operator: "alice" }), build({ sha: A, operator: "", trusted: true }), evil],
      2,
    );
    assert.equal(v.status, "mismatch");
    assert.deepEqual(
      v.differing.map((b) => b.jobId),
      [evil.jobId],
    );
  });

  it("a rebuild that succeeded without the artifact disagrees", () => {
    const v = judge("app", [build({ sha: A, operator: "alice" }), build({ operator: "bob" })], 2);
    assert.equal(v.status, "mismatch");
  });
});

describe("policy", () => {
  const policy = (p: Partial<Parameters<typeof replicasFor>[0]>) => ({
    builds: 1,
    agree: 1,
    trustedBuild: false,
    workflows: null,
    ...p,
  });

  it("builds - 1 replicas; one more on a trusted worker only when the job ran on an untrusted one", () => {
    assert.deepEqual(replicasFor(policy({ builds: 3 }), "untrusted"), [
      { trustedWorker: false },
      { trustedWorker: false },
    ]);
    assert.deepEqual(replicasFor(policy({ trustedBuild: true }), "untrusted"), [{ trustedWorker: true }]);
    assert.deepEqual(replicasFor(policy({ trustedBuild: true }), "trusted"), []);
    assert.deepEqual(replicasFor(policy({ builds: 2, trustedBuild: true }), null), [
      { trustedWorker: false },
      { trustedWorker: true },
    ]);
  });

  it("only the workflows it names; none at all without builds or a trusted build", () => {
    assert.equal(corroborates(policy({}), ".github/workflows/ci.yml"), false);
    assert.equal(corroborates(policy({ builds: 2 }), ".github/workflows/ci.yml"), true);
    const only = policy({ builds: 2, workflows: [".github/workflows/release.yml"] });
    assert.equal(corroborates(only, ".github/workflows/ci.yml"), false);
    assert.equal(corroborates(only, ".github/workflows/release.yml"), true);
  });
});
