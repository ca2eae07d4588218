// @actions/workflow-parser imports its two JSON schemas without an import attribute (fine for
// bundlers, refused by Node). `npm install` (postinstall) and `npm run build` add the attribute
// to those two lines (`node bin/json-imports.js --patch`); the JSON import hook (json-hook.js),
// which sends every module load through Node's hooks thread and costs over a second per start,
// is registered only when the package was installed without running scripts.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const FILES = ["actions/action-schema.js", "workflows/workflow-schema.js"];
const ATTRIBUTE = ' with { type: "json" };';
const JSON_IMPORT = /^(import \w+ from "[^"]+\.json")(;?)$/m;

function parserDist() {
  return dirname(fileURLToPath(import.meta.resolve("@actions/workflow-parser")));
}

/** True when both schema imports carry the attribute, so no hook is needed. */
export function jsonImportsPatched() {
  try {
    const dist = parserDist();
    return FILES.every((f) => !JSON_IMPORT.test(readFileSync(join(dist, f), "utf8")));
  } catch {
    return false;
  }
}

/** Adds the attribute to the two imports; idempotent. Returns the files it changed. */
export function patchJsonImports() {
  const dist = parserDist();
  const changed = [];
  for (const f of FILES) {
    const path = join(dist, f);
    const text = readFileSync(path, "utf8");
    if (!JSON_IMPORT.test(text)) continue;
    writeFileSync(
      path,
      text.replace(JSON_IMPORT, (_m, imp) => imp + ATTRIBUTE),
    );
    changed.push(path);
  }
  return changed;
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === "--patch") {
  try {
    patchJsonImports();
  } catch (err) {
    // Never fail an install over it: the hook covers an unpatched parser.
    console.error(
      `airlock: could not patch @actions/workflow-parser's JSON imports (${err.message}); the slower import hook will be used`,
    );
  }
}
