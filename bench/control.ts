// Benchmark: how fast a follower sees a job's output, and how fast a cancel stops a machine.
// Usage: npm run bench:control
import "./lib/hook.js";

const { runControlBench } = await import("./lib/control-main.js");
await runControlBench(Number(process.argv[2] ?? 10));
