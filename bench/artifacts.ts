// Benchmark: artifact upload and download in real jobs against a plain file copy, in one run.
// Usage: npm run bench:artifacts [-- <rounds> <MiB>]   (default 3 rounds of 1024 MiB)
import "./lib/hook.js";

const { runArtifactsBench } = await import("./lib/artifacts-main.js");
await runArtifactsBench(Number(process.argv[2] ?? 3), Number(process.argv[3] ?? 1024));
