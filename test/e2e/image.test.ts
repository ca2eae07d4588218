// End-to-end: `-P label=rootfs` runs the jobs with that runs-on label in the given root
// filesystem instead of the read-only host, and other jobs stay on the default sandbox.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeRepo, runAirlock, type TempRepo } from "../helpers/repo.js";
import { buildTinyRootfs } from "../helpers/rootfs.js";

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups) await c();
});

describe("-P label=rootfs", () => {
  it("runs a job labelled with the platform in that root filesystem", async () => {
    const rootfs = await mkdtemp(join(tmpdir(), "airlock-image-"));
    cleanups.push(() => rm(rootfs, { recursive: true, force: true }));
    await buildTinyRootfs(rootfs, ["/bin/sh", "/usr/bin/cat", "/usr/bin/test"]);
    await writeFile(join(rootfs, "etc-marker"), "inside-the-tiny-image\n");
    await chmod(rootfs, 0o755);
    const repo: TempRepo = makeRepo({
      ".github/workflows/w.yml": `on: push
jobs:
  tiny:
    runs-on: [self-hosted, tiny]
    steps:
      - run: |
          cat /etc-marker
          if test -e /usr/bin/git; then echo "host-visible"; fi
  host:
    runs-on: ubuntu-latest
    steps:
      - run: test -e /usr/bin/git && echo "host-has-git"
`,
    });
    cleanups.push(() => repo.remove());
    const res = await runAirlock(repo.dir, ["run", "--json", "-P", `tiny=${rootfs}`]);
    assert.equal(res.code, 0, res.stderr);
    assert.ok(res.stderr.includes("| inside-the-tiny-image"), res.stderr);
    assert.ok(!res.stderr.includes("| host-visible"), res.stderr);
    assert.ok(res.stderr.includes("| host-has-git"), res.stderr);
  });
});
