// Benchmark: signed GitHub push webhook → the first step running in a real sandbox, p50/p95/p99
// over 100 runs with a breakdown per stage, against the same job run directly by the runner and a
// bare spawn, measured interleaved in the same run.
// Usage: npm run bench:webhook [-- iterations [warmup]]
import "./lib/hook.js";

const { runWebhookBench } = await import("./lib/webhook-main.js");
await runWebhookBench(Number(process.argv[2] ?? 100), Number(process.argv[3] ?? 5));
