// Several processes fetching the same action into one host cache at once: each gets the complete
// tree, and the cache ends up with exactly one entry and no leftovers.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { initRepo, rmDir, tempDir } from "./helpers.js";

const run = promisify(execFile);
let root: string;
let commit: string;

before(() => {
  root = tempDir();
  const files: Record<string, string> = {};
  for (let i = 0; i < 50; i++) files[`f/${i}.txt`] = `file ${i}\n`.repeat(100);
  commit = initRepo(join(root, "srv", "octo", "many"), files);
});

after(() => rmDir(root));

void test("four processes fetch the same commit concurrently without corrupting the cache", async () => {
  const cacheDir = join(root, "cache");
  const worker = join(import.meta.dirname, "fixtures", "fetch-worker.ts");
  const refs = ["main", commit, "main", commit];
  const outs = await Promise.all(
    refs.map((ref) =>
      run(process.execPath, ["--import", "tsx", worker, `file://${root}/srv`, cacheDir, ref]),
    ),
  );
  for (const { stdout } of outs) {
    assert.deepEqual(JSON.parse(stdout), { commit, content: "file 49\n".repeat(100) });
  }
  assert.deepEqual(readdirSync(join(cacheDir, "file", "octo", "many")), [commit]);
  assert.equal(readdirSync(join(cacheDir, "file", "octo", "many", commit, "f")).length, 50);
  assert.deepEqual(readdirSync(join(cacheDir, ".staging")), []);
});
