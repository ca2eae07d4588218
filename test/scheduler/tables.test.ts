// Placement tables: every fixtures/*.yml case is placed as one batch and each job's placement
// or wait code and reason compared with the table; the batch invariants are checked too.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isPlaced, placeJobs } from "../../src/scheduler/index.js";
import { loadTable, tableFiles } from "./fixtures.js";
import { assertInvariants } from "./world.js";

const files = tableFiles();

it("finds the placement tables", () => {
  assert.ok(files.length >= 5, `only ${files.length} table files`);
});

for (const file of files) {
  describe(file, () => {
    for (const c of loadTable(file)) {
      it(c.name, () => {
        const w = c.world;
        const before = structuredClone(w);
        const placements = placeJobs(w.jobs, w.images, w.flavours, w.nodes, w.limits);
        const actual = placements.map((p, i) => {
          const e = c.expected[i];
          if (isPlaced(p)) {
            return {
              node: p.node.name,
              ...(e && "node" in e && e.image !== undefined ? { image: p.image.name } : {}),
              ...(e && "node" in e && e.flavour !== undefined ? { flavour: p.flavour.name } : {}),
            };
          }
          return {
            wait: p.waitCode,
            ...(e && "wait" in e && e.reason !== undefined ? { reason: p.waitReason } : {}),
            ...(e && "wait" in e && e.pools !== undefined ? { pools: p.pools } : {}),
          };
        });
        assert.deepEqual(actual, c.expected);
        assertInvariants(w, placements);
        assert.deepEqual(w, before, "placeJobs must not mutate its inputs");
      });
    }
  });
}
