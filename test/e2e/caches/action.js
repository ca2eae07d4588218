// A JavaScript action around the real `@actions/cache` client (what actions/cache@v4 runs), bundled
// by the test with esbuild into the job's repository. Inputs: op (save | restore), key,
// restore-keys (comma-separated), path. Prints what it did; fails the step on an error, and a
// restore that misses prints "cache miss".
import * as cache from "@actions/cache";

const input = (n) => process.env[`INPUT_${n.toUpperCase()}`] ?? "";
try {
  const paths = [input("path")];
  if (input("op") === "save") {
    const id = await cache.saveCache(paths, input("key"));
    if (id <= 0) throw new Error(`saveCache returned ${id}`);
    console.log(`saved cache entry ${id}`);
  } else {
    const restoreKeys = input("restore-keys") ? input("restore-keys").split(",") : [];
    const hit = await cache.restoreCache(paths, input("key"), restoreKeys);
    console.log(hit ? `restored cache ${hit}` : "cache miss");
  }
} catch (err) {
  console.log(`::error::${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
