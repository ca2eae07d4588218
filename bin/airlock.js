#!/usr/bin/env node
// Entry point of the `airlock` binary: registers the JSON import hook, then runs the compiled CLI.
import { register } from "node:module";

register("./json-hook.js", import.meta.url);
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
