// Benchmark of identity costs a user waits for, each against a baseline measured in the same run,
// interleaved and repeated (the real service, in-process, on an embedded PostgreSQL):
//   1. login latency: POST /api/v1/auth/login (argon2id at the chosen cost, session row) vs
//      GET /api/v1/auth/me with a session cookie (the same HTTP path and a session lookup);
//   2. API-token verification throughput: authenticateApiToken (lookup by public id, constant-time
//      compare, liveness) vs the older sha256-indexed admin-token lookup, concurrency 8;
//   3. audit appends per second: appendAudit (advisory lock, last hash, SHA-256, insert) vs a plain
//      INSERT of the same row into an unchained copy of the table, concurrency 8.
// Prints medians and the spread. Usage: npm run bench:auth [-- rounds]
import "./lib/hook.js";

const { runAuthBench } = await import("./lib/auth-main.js");
await runAuthBench(Number(process.argv[2] ?? 5));
