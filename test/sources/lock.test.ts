// The mirror lock: holders of one path never overlap (in one process, across instances), other
// paths are independent, a failing holder releases the lock.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { setImmediate as tick } from "node:timers/promises";
import { withLock } from "../../src/sources/lock.js";
import { rmDir, tempDir } from "../actions/helpers.js";

const root = tempDir("airlock-sources-lock-");
after(() => rmDir(root));

void test("holders of one path run one at a time, in order", async () => {
  const path = join(root, "a.git");
  const log: string[] = [];
  let inside = 0;
  const hold = (name: string) =>
    withLock(path, async () => {
      inside++;
      assert.equal(inside, 1, `${name} overlapped another holder`);
      log.push(`${name}+`);
      for (let i = 0; i < 5; i++) await tick();
      log.push(`${name}-`);
      inside--;
      return name;
    });
  const results = await Promise.all(["x", "y", "z"].map(hold));
  assert.deepEqual(results, ["x", "y", "z"]);
  assert.deepEqual(log, ["x+", "x-", "y+", "y-", "z+", "z-"]);
  assert.equal(existsSync(`${path}.airlock-lock`), false);
});

void test("a failing holder releases the lock; other paths do not wait", async () => {
  const path = join(root, "b.git");
  await assert.rejects(
    withLock(path, () => Promise.reject(new Error("boom"))),
    /boom/,
  );
  assert.equal(existsSync(`${path}.airlock-lock`), false);
  let otherRan = false;
  await withLock(path, async () => {
    await withLock(join(root, "c.git"), () => {
      otherRan = true;
      return Promise.resolve();
    });
  });
  assert.ok(otherRan);
});
