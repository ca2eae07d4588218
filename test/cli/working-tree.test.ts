// The snapshot a local `airlock run` gives its jobs: HEAD's commit plus the working tree's changes
// (modified, added, deleted, untracked, type changes), nothing .gitignore leaves out, the excluded
// secret file kept out, and a committed symlink never followed when the working tree replaced it.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { readRepo } from "../../src/git/index.js";
import { snapshotWorkingTree, uncommittedPaths, workingTreeLine } from "../../src/cli/working-tree.js";
import { makeRepo } from "../helpers/repo.js";

const outside = mkdtempSync(join(tmpdir(), "airlock-outside-"));
const repo = makeRepo({
  ".gitignore": "node_modules/\n",
  "kept.txt": "same\n",
  "edit.txt": "old\n",
  "gone.txt": "bye\n",
  "was-file": "a file\n",
});
symlinkSync(outside, join(repo.dir, "link"));
execFileSync("git", ["add", "link"], { cwd: repo.dir });
execFileSync("git", ["-c", "user.name=T", "-c", "user.email=t@airlock.invalid", "commit", "-qm", "link"], {
  cwd: repo.dir,
});
after(() => {
  repo.remove();
  rmSync(outside, { recursive: true, force: true });
});

describe("the working tree's snapshot", () => {
  it("holds HEAD plus every change, none of the ignored files, and follows no committed symlink", async () => {
    writeFileSync(join(repo.dir, "edit.txt"), "new\n");
    writeFileSync(join(repo.dir, "run.sh"), "#!/bin/sh\n", { mode: 0o755 });
    unlinkSync(join(repo.dir, "gone.txt"));
    unlinkSync(join(repo.dir, "was-file"));
    mkdirSync(join(repo.dir, "was-file"));
    writeFileSync(join(repo.dir, "was-file", "inner.txt"), "now a folder\n");
    unlinkSync(join(repo.dir, "link"));
    mkdirSync(join(repo.dir, "link"));
    writeFileSync(join(repo.dir, "link", "x.txt"), "inside\n");
    symlinkSync("kept.txt", join(repo.dir, "alias"));
    mkdirSync(join(repo.dir, "node_modules"));
    writeFileSync(join(repo.dir, "node_modules", "dep.js"), "ignored\n");
    writeFileSync(join(repo.dir, ".secrets"), "S=1\n");

    const info = await readRepo(repo.dir);
    const paths = await uncommittedPaths(repo.dir);
    assert.deepEqual(paths, [
      ".secrets",
      "alias",
      "edit.txt",
      "gone.txt",
      "link",
      "link/x.txt",
      "run.sh",
      "was-file",
      "was-file/inner.txt",
    ]);
    assert.match(
      workingTreeLine(info, paths.length),
      /^the working tree of .* \(9 uncommitted changes\) at commit [0-9a-f]{7} on main$/,
    );
    const snap = await snapshotWorkingTree(info, paths, new Set([".secrets"]));
    try {
      const at = (p: string): string => join(snap.dir, p);
      assert.equal(readFileSync(at("kept.txt"), "utf8"), "same\n");
      assert.equal(readFileSync(at("edit.txt"), "utf8"), "new\n");
      assert.equal(existsSync(at("gone.txt")), false);
      assert.equal(readFileSync(at("was-file/inner.txt"), "utf8"), "now a folder\n");
      assert.ok(lstatSync(at("link")).isDirectory());
      assert.equal(readFileSync(at("link/x.txt"), "utf8"), "inside\n");
      assert.equal(existsSync(join(outside, "x.txt")), false, "wrote through the committed symlink");
      assert.equal(readlinkSync(at("alias")), "kept.txt");
      assert.equal(statSync(at("run.sh")).mode & 0o111, 0o111);
      assert.equal(existsSync(at("node_modules")), false);
      assert.equal(existsSync(at(".secrets")), false);
      const head = execFileSync("git", ["rev-parse", "HEAD"], { cwd: snap.dir, encoding: "utf8" }).trim();
      assert.equal(head, info.commit);
      const status = execFileSync("git", ["status", "--porcelain"], { cwd: snap.dir, encoding: "utf8" });
      assert.match(status, /^ M edit\.txt$/m);
      assert.match(status, /^ D gone\.txt$/m);
    } finally {
      await snap.remove();
    }
    assert.equal(existsSync(snap.dir), false);
  });
});
