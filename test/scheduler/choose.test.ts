// chooseBest and explainWait directly: the generic label rules outside any table, and the
// single-job explanation the API shows.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { WaitCode, chooseBest, explainWait } from "../../src/scheduler/index.js";
import { flavour, image, node, noLimits } from "./world.js";

const obj = (name: string, labels: string[] = [], requiredLabels: string[] = []) => ({
  name,
  labels,
  requiredLabels,
});

describe("chooseBest", () => {
  it("returns undefined for no candidates", () => {
    assert.equal(chooseBest(["a"], []), undefined);
  });

  it("works on any labelled object, with or without id", () => {
    const winner = chooseBest(["x", "y"], [obj("one", ["x"]), obj("two", ["x", "y"])]);
    assert.equal(winner?.name, "two");
  });

  it("never picks a non-default object that matches nothing", () => {
    assert.equal(chooseBest(["a"], [obj("b", ["b"]), obj("c", ["c"])]), undefined);
  });

  it("counts a job label once however often it is repeated", () => {
    const winner = chooseBest(["a", "a", "A"], [obj("one", ["a"]), obj("two", ["b", "c"])]);
    assert.equal(winner?.name, "one");
  });

  it("ignores duplicated object labels when counting extras", () => {
    const winner = chooseBest(["a"], [obj("b-dup", ["a", "x", "X"]), obj("a-two", ["a", "x", "y"])]);
    assert.equal(winner?.name, "b-dup");
  });

  it("does not depend on the order of the candidates", () => {
    const candidates = [
      obj("m", ["a", "b"]),
      obj("k", ["a", "b"]),
      obj("z", ["a"]),
      obj("q", ["a", "b"], ["c"]),
    ];
    for (let i = 0; i < candidates.length; i++) {
      const rotated = [...candidates.slice(i), ...candidates.slice(0, i)];
      assert.equal(chooseBest(["a", "b"], rotated)?.name, "k");
      assert.equal(chooseBest(["a", "b", "c"], rotated)?.name, "q");
    }
  });

  it("breaks a full tie on id", () => {
    const winner = chooseBest(
      ["a"],
      [image(9, "same", { labels: ["a"] }), image(4, "same", { labels: ["a"] })],
    );
    assert.equal(winner?.id, 4);
  });
});

describe("explainWait", () => {
  const images = [image(1, "debian-12", { labels: ["debian-12"] })];
  const flavours = [flavour(1, "small")];
  const job = { id: 1, labels: ["debian-12"], projectId: 1, organizationId: 1 };

  it("is undefined when the job would be placed", () => {
    assert.equal(
      explainWait(job, images, flavours, [node(1, "n1", { images: ["debian-12"] })], noLimits()),
      undefined,
    );
  });

  it("gives the code and sentence when it would wait", () => {
    const limits = noLimits();
    limits.organizationLimit.set(1, 5);
    limits.organizationRunning.set(1, 5);
    const nodes = [node(1, "n1", { images: ["debian-12"] })];
    assert.deepEqual(explainWait(job, images, flavours, nodes, limits), {
      code: WaitCode.ORGANIZATION_LIMIT,
      reason: "organization limit 5 reached",
    });
    nodes[0] = node(1, "n1", { images: ["debian-12"], enabled: false });
    assert.equal(explainWait(job, images, flavours, nodes, noLimits())?.code, WaitCode.NODES_UNAVAILABLE);
  });
});
