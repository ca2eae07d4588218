#!/usr/bin/env node
// Entry point of the `airlock` binary: runs the compiled CLI.
import { main } from "../dist/src/cli/main.js";
main(process.argv).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(err instanceof Error ? err.message : String(err)); process.exitCode = 1; },
);
