// Benchmark: 1,000 trivial jobs over 50 simulated agents (real WebSocket connections, fake
// provisioner): throughput in jobs/s and enqueue → agent-ack latency p50/p95/p99, against the
// same jobs on one agent and against the bare queue SQL, measured in the same run.
// Usage: npm run bench:dispatch [-- --jobs N --agents N --warmup N --batch N --no-single]
import "./lib/hook.js";

const { parseArgs, runDispatchBench } = await import("./lib/dispatch-main.js");
await runDispatchBench(parseArgs(process.argv.slice(2)));
