// The capacity an agent reports: disk is the free space of the filesystem holding its data folder,
// also when the folder is fresh (just made, empty) or not made yet — never the 1 MiB placeholder.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, statfsSync } from "node:fs";
import { detectCapacity, diskSpace } from "../../src/agent/index.js";
import { tempDir } from "./helpers.js";

const tmp = tempDir("airlock-capacity-");
after(() => tmp.remove());
const MiB = 1024 * 1024;

/** What `df` says of the temp folder's filesystem, in MiB, within `slack` (other processes write). */
function near(actual: number, expected: number, what: string): void {
  const slack = Math.max(64, expected * 0.01);
  assert.ok(Math.abs(actual - expected) <= slack, `${what}: ${actual} MiB, df says ${expected} MiB`);
}

describe("agent capacity", () => {
  it("a fresh, empty data folder reports the free and total space of its filesystem", async () => {
    const dir = `${tmp.dir}/fresh`;
    mkdirSync(dir);
    const s = statfsSync(dir);
    const free = Math.floor((s.bavail * s.bsize) / MiB);
    assert.ok(free > 1, "the test machine's temp filesystem has space");
    const c = await detectCapacity(dir);
    near(c.diskMb, free, "diskMb");
    const d = await diskSpace(dir);
    near(d.totalMb, Math.floor((s.blocks * s.bsize) / MiB), "totalMb");
    assert.equal(d.path, dir);
    assert.ok(c.cpus >= 1 && c.memoryMb > 1);
  });

  it("a data folder not made yet reports its nearest existing parent's filesystem", async () => {
    const s = statfsSync(tmp.dir);
    const c = await detectCapacity(`${tmp.dir}/not/made/yet`);
    near(c.diskMb, Math.floor((s.bavail * s.bsize) / MiB), "diskMb");
    assert.equal((await diskSpace(`${tmp.dir}/not/made/yet`)).path, tmp.dir);
  });

  it("a folder that cannot be asked (a file in the way) reports the 1 MiB placeholder, not an error", async () => {
    const c = await detectCapacity("/dev/null/agent");
    assert.equal(c.diskMb, 1);
  });
});
