// Registers the JSON import hook (bin/json-hook.js) when running compiled from dist/bench/ and the
// workflow parser's JSON imports were not patched at install (bin/json-imports.js): the parser
// imports its JSON schemas without an import attribute, which Node refuses.
// Import this module first and the project's modules dynamically after it (static imports are
// evaluated before any code of the importing module runs).
import { register } from "node:module";

if (import.meta.url.includes("/dist/bench/")) {
  const helper = new URL("../../../bin/json-imports.js", import.meta.url).href;
  const { jsonImportsPatched } = (await import(helper)) as { jsonImportsPatched: () => boolean };
  if (!jsonImportsPatched()) register("../../../bin/json-hook.js", import.meta.url);
}
