// The run page's job graph layout: columns by dependency depth, matrix legs grouped under their
// workflow job, jobs without rows waiting, edges between the boxes.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  DEFAULT_SIZES,
  depths,
  groupState,
  layoutDag,
  topJobOf,
  type JobRowIn,
} from "../../web/src/lib/dag.js";

const row = (
  id: number,
  jobId: string,
  index: number,
  state = "queued",
  conclusion: string | null = null,
): JobRowIn => ({
  id,
  key: `.github/workflows/ci.yml#${jobId}#${index}`,
  jobId,
  name: `${jobId} ${index}`,
  state,
  conclusion,
});

const graph = [
  { id: "build", name: "Build", needs: [] },
  { id: "lint", name: "Lint", needs: [] },
  { id: "test", name: "Test", needs: ["build"] },
  { id: "deploy", name: "Deploy", needs: ["test", "lint"] },
];

describe("job graph layout", () => {
  it("puts each job in the column of its dependency depth", () => {
    const d = depths(graph);
    assert.deepEqual(Object.fromEntries(d), { build: 0, lint: 0, test: 1, deploy: 2 });
    const l = layoutDag(graph, [], () => false);
    assert.equal(l.columns, 3);
    const at = Object.fromEntries(l.nodes.map((n) => [n.id, n]));
    assert.equal(at.build?.x, 0);
    assert.equal(at.test?.x, DEFAULT_SIZES.nodeWidth + DEFAULT_SIZES.colGap);
    assert.ok((at.lint?.y ?? 0) > (at.build?.y ?? 0), "second job of a column below the first");
    assert.equal(l.width, 3 * DEFAULT_SIZES.nodeWidth + 2 * DEFAULT_SIZES.colGap);
  });

  it("draws one edge per need, from the need's right side to the job's left side", () => {
    const l = layoutDag(graph, [], () => false);
    assert.deepEqual(l.edges.map((e) => `${e.from}>${e.to}`).sort(), [
      "build>test",
      "lint>deploy",
      "test>deploy",
    ]);
    const e = l.edges.find((x) => x.to === "test");
    assert.match(e?.path ?? "", new RegExp(`^M${DEFAULT_SIZES.nodeWidth},`));
  });

  it("groups matrix legs under their workflow job and grows the box when expanded", () => {
    const rows = [row(1, "build", 0, "completed", "success"), row(2, "test", 0), row(3, "test", 1)];
    const closed = layoutDag(graph, rows, () => false);
    const open = layoutDag(graph, rows, (id) => id === "test");
    const t1 = closed.nodes.find((n) => n.id === "test");
    const t2 = open.nodes.find((n) => n.id === "test");
    assert.deepEqual(
      t1?.rows.map((r) => r.id),
      [2, 3],
    );
    assert.equal(t1?.height, DEFAULT_SIZES.nodeHeight);
    assert.equal(t2?.height, DEFAULT_SIZES.nodeHeight + 2 * DEFAULT_SIZES.legHeight);
    assert.deepEqual(open.nodes.find((n) => n.id === "deploy")?.rows, [], "no rows yet: waiting");
  });

  it("files a called workflow's jobs under the calling job", () => {
    const r: JobRowIn = {
      id: 9,
      key: ".github/workflows/ci.yml#call#0/.github/workflows/lib.yml#inner#0",
      jobId: "inner",
      name: "inner",
      state: "running",
      conclusion: null,
    };
    assert.equal(topJobOf(r), "call");
    const l = layoutDag([{ id: "call", name: "call", needs: [] }], [r], () => true);
    assert.equal(l.nodes.length, 1);
    assert.equal(l.nodes[0]?.rows[0]?.id, 9);
  });

  it("lays out rows alone when the run has no graph, and survives a cycle", () => {
    const l = layoutDag(null, [row(1, "a", 0), row(2, "b", 0)], () => false);
    assert.deepEqual(
      l.nodes.map((n) => [n.id, n.depth]),
      [
        ["a", 0],
        ["b", 0],
      ],
    );
    const cyc = depths([
      { id: "x", name: "x", needs: ["y"] },
      { id: "y", name: "y", needs: ["x"] },
    ]);
    assert.equal(cyc.size, 2);
  });

  it("sums up a group's state: failure wins, then running, queued; no rows is waiting", () => {
    assert.deepEqual(groupState([]), { state: "waiting", conclusion: null });
    assert.deepEqual(
      groupState([row(1, "t", 0, "completed", "success"), row(2, "t", 1, "completed", "failure")]),
      {
        state: "completed",
        conclusion: "failure",
      },
    );
    assert.deepEqual(groupState([row(1, "t", 0, "completed", "success"), row(2, "t", 1, "running")]), {
      state: "running",
      conclusion: null,
    });
    assert.deepEqual(
      groupState([row(1, "t", 0, "completed", "success"), row(2, "t", 1, "queued")]).state,
      "queued",
    );
  });
});
