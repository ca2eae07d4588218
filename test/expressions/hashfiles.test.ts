// hashFilesOnDisk against real files in a temp dir; expected hashes built with the sha256sum tool.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { evaluateExpression, hashFilesOnDisk } from "../../src/expressions/index.js";

let base: string;
let root: string;
let outside: string;

/** GitHub's algorithm: sha256 over the binary sha256 digests of the files, in the given order. */
function expected(...rel: string[]): string {
  const outer = createHash("sha256");
  for (const r of rel) {
    const line = execFileSync("sha256sum", ["--", path.join(root, r)], { encoding: "utf8" });
    outer.update(Buffer.from(line.slice(0, 64), "hex"));
  }
  return outer.digest("hex");
}

function write(rel: string, content: string): void {
  mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  writeFileSync(path.join(root, rel), content);
}

before(() => {
  base = mkdtempSync(path.join(tmpdir(), "airlock-hashfiles-"));
  root = path.join(base, "ws");
  outside = path.join(base, "outside");
  mkdirSync(root);
  mkdirSync(outside);
  writeFileSync(path.join(outside, "secret.txt"), "do not read");
  mkdirSync(path.join(outside, "dir"));
  writeFileSync(path.join(outside, "dir", "x.lock"), "outside lock");
  write("a.lock", "A");
  write("b.lock", "B");
  write("sub/c.lock", "C");
  write("sub/deep/d.lock", "D");
  write("skip/e.lock", "E");
  write("skip/keep.lock", "K");
  write(".hidden/f.lock", "F");
  write("readme.md", "R");
  mkdirSync(path.join(root, "emptydir.lock"));
  symlinkSync(path.join(outside, "secret.txt"), path.join(root, "escape.lock"));
  symlinkSync(path.join(outside, "dir"), path.join(root, "linkdir"));
  symlinkSync("readme.md", path.join(root, "inside-link.md"));
});

after(() => rmSync(base, { recursive: true, force: true }));

void describe("hashFilesOnDisk", () => {
  void it("hashes one file like GitHub (sha256 of the file's sha256 digest)", () => {
    assert.equal(hashFilesOnDisk(root, ["readme.md"]), expected("readme.md"));
  });

  void it("sorts matched files by path, whatever the pattern order", () => {
    const want = expected("a.lock", "b.lock");
    assert.equal(hashFilesOnDisk(root, ["b.lock", "a.lock"]), want);
    assert.equal(hashFilesOnDisk(root, ["a.lock", "b.lock"]), want);
    assert.notEqual(want, expected("b.lock", "a.lock"));
  });

  void it("** matches nested files and dotfile directories; directories themselves are never hashed", () => {
    assert.equal(
      hashFilesOnDisk(root, ["**/*.lock"]),
      expected(
        ".hidden/f.lock",
        "a.lock",
        "b.lock",
        "skip/e.lock",
        "skip/keep.lock",
        "sub/c.lock",
        "sub/deep/d.lock",
      ),
    );
  });

  void it("! negates and later patterns win", () => {
    assert.equal(
      hashFilesOnDisk(root, ["**/*.lock", "!skip/**", "!.hidden"]),
      expected("a.lock", "b.lock", "sub/c.lock", "sub/deep/d.lock"),
    );
    assert.equal(hashFilesOnDisk(root, ["skip/*", "!skip/*", "skip/keep.lock"]), expected("skip/keep.lock"));
  });

  void it("a pattern naming a directory covers the files below it", () => {
    assert.equal(hashFilesOnDisk(root, ["sub"]), expected("sub/c.lock", "sub/deep/d.lock"));
    assert.equal(hashFilesOnDisk(root, ["./sub/deep/"]), expected("sub/deep/d.lock"));
  });

  void it("absolute patterns work inside root and match nothing outside it", () => {
    assert.equal(hashFilesOnDisk(root, [path.join(root, "a.lock")]), expected("a.lock"));
    assert.equal(hashFilesOnDisk(root, [path.join(outside, "secret.txt")]), "");
  });

  void it("returns an empty string when nothing matches", () => {
    assert.equal(hashFilesOnDisk(root, ["**/*.nothing"]), "");
    assert.equal(hashFilesOnDisk(root, ["emptydir.lock"]), "");
    assert.equal(hashFilesOnDisk(root, []), "");
  });

  void it("ignores symlinks leading outside root, follows those staying inside", () => {
    assert.equal(hashFilesOnDisk(root, ["escape.lock"]), "");
    assert.equal(hashFilesOnDisk(root, ["linkdir/**"]), "");
    assert.equal(hashFilesOnDisk(root, ["*.md"]), expected("inside-link.md", "readme.md"));
    // The escaping link never changes the result of a broad pattern.
    assert.equal(hashFilesOnDisk(root, ["*.lock"]), expected("a.lock", "b.lock"));
  });

  void it("plugs into expressions through EvalHost.hashFiles", () => {
    const host = { hashFiles: (p: string[]) => hashFilesOnDisk(root, p) };
    assert.equal(
      evaluateExpression("hashFiles('**/c.lock', '**/d.lock')", {}, host),
      expected("sub/c.lock", "sub/deep/d.lock"),
    );
    assert.equal(evaluateExpression("hashFiles('none')", {}, host), "");
  });
});

void describe("hashFiles and special files a job may plant", () => {
  void it("skips a FIFO instead of blocking on it", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "airlock-hashfiles-fifo-"));
    try {
      writeFileSync(path.join(dir, "a.txt"), "a");
      execFileSync("mkfifo", [path.join(dir, "b.txt")]);
      const onlyA = createHash("sha256").update(createHash("sha256").update("a").digest()).digest("hex");
      assert.equal(hashFilesOnDisk(dir, ["*.txt"]), onlyA);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
