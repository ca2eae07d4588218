// The README's demo commands build everything a job needs on a fresh clone: `npm run demo` and
// `npm run demo:run` run jobs, and a job needs the native helper (dist/native/airlock-exec) as
// well as the compiled JavaScript. (The test suite builds both itself, so a demo script that
// forgot the helper would pass every other test and fail for a new user.)
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..", "..");

describe("demo scripts", () => {
  for (const script of ["scripts/demo.sh", "scripts/demo-run.sh"]) {
    it(`${script} builds the native helpers before it runs a job`, () => {
      const lines = readFileSync(join(root, script), "utf8").split("\n");
      const native = lines.findIndex((l) => l.trim() === "bash scripts/build-native.sh");
      const runs = lines.findIndex((l) => /node (bin\/airlock\.js|"\$airlock") (up|run)\b/.test(l));
      assert.ok(native >= 0, `${script} never builds the native helpers`);
      assert.ok(runs > native, `${script} runs jobs before building the native helpers`);
    });
  }
  it("scripts/demo.sh builds the web UI before it starts the server that serves it", () => {
    const lines = readFileSync(join(root, "scripts/demo.sh"), "utf8").split("\n");
    const web = lines.findIndex((l) => /^npx vite build --config web\/vite\.config\.ts\b/.test(l.trim()));
    const up = lines.findIndex((l) => /node bin\/airlock\.js up\b/.test(l));
    assert.ok(web >= 0 && up > web, "demo.sh builds dist/web before `airlock up`");
  });
});
