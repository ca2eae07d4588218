// The parser's JSON imports are patched at install (postinstall) and build, so the CLI starts
// without the JSON import hook (which costs over a second per start); the patch is idempotent.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
// @ts-expect-error: plain JavaScript module without types
import { jsonImportsPatched, patchJsonImports } from "../../bin/json-imports.js";

test("@actions/workflow-parser's JSON imports carry the attribute after install, and patching again changes nothing", () => {
  assert.equal((jsonImportsPatched as () => boolean)(), true);
  const dist = dirname(fileURLToPath(import.meta.resolve("@actions/workflow-parser")));
  const before = readFileSync(join(dist, "workflows/workflow-schema.js"), "utf8");
  assert.match(before, /from "\.\.\/workflow-v1\.0\.min\.json" with \{ type: "json" \};/);
  assert.deepEqual((patchJsonImports as () => string[])(), []);
  assert.equal(readFileSync(join(dist, "workflows/workflow-schema.js"), "utf8"), before);
});
