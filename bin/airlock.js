#!/usr/bin/env node
// Entry point of the `airlock` binary: runs the compiled CLI. The JSON import hook is registered
// only when @actions/workflow-parser's JSON imports were not patched at install (json-imports.js).
import { register } from "node:module";
import { jsonImportsPatched } from "./json-imports.js";

if (!jsonImportsPatched()) register("./json-hook.js", import.meta.url);
const { main } = await import("../dist/src/cli/main.js");
main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exitCode = 1;
  },
);
