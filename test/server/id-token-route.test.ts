// The agent's identity token route over HTTP (stub core, real database and KMS): failed requests
// (dead request tokens) are throttled per client address by a limiter of the route's own, never
// the one the agent WebSocket and node registration share, and a job attempt gets at most
// MAX_TOKENS_PER_ATTEMPT tokens, then a one-line 429. A clock the test holds, never a sleep.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { addressKey, MemoryFailureLimiter } from "../../src/auth/index.js";
import { MAX_TOKENS_PER_ATTEMPT, mintRequestTokens } from "../../src/job-identity/index.js";
import { ID_TOKEN_PATH } from "../../src/protocol/agent.js";
import type { JobDescription } from "../../src/runner/index.js";
import { seedOrganization, seedRepository, seedRun } from "../secrets/helpers.js";
import { startTestServer, type TestServer } from "./helpers.js";

const POLICY = {
  maxFailures: 3,
  windowMs: 60_000,
  lockBaseMs: 60_000,
  lockMaxMs: 600_000,
  forgetMs: 3_600_000,
};
const now = 1_000_000;
let s: TestServer;
let nodeLimiter: MemoryFailureLimiter;

before(async () => {
  nodeLimiter = new MemoryFailureLimiter(POLICY, { now: () => now });
  s = await startTestServer(
    {},
    { nodeAuthLimiter: nodeLimiter, idTokenLimiter: new MemoryFailureLimiter(POLICY, { now: () => now }) },
  );
});
after(async () => {
  await s?.close();
});

async function ask(
  token: string,
  remoteAddress: string,
): Promise<{ status: number; body: { value?: string; error?: { code: string; message: string } } }> {
  const res = await s.app.inject({
    method: "GET",
    url: `${ID_TOKEN_PATH}?audience=sts.example.test`,
    remoteAddress,
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: res.statusCode, body: JSON.parse(res.body) };
}

/** A running job attempt allowed to ask for identity tokens, and its request token. */
async function runningJob(): Promise<{ jobId: number; token: string }> {
  const org = await seedOrganization(s.db.pool, `org-${Math.random().toString(36).slice(2, 8)}`);
  const repo = await seedRepository(s.db.pool, org, "acme/app");
  const runId = await seedRun(s.db.pool, repo);
  const description = {
    jobId: "deploy",
    workflow: { file: ".github/workflows/ci.yml", name: "CI" },
    contexts: { github: { run_attempt: "1" } },
    timeoutMinutes: 60,
    permissions: { "id-token": "write" },
  };
  const { rows } = await s.db.pool.query<{ id: string }>(
    `INSERT INTO jobs (run_id, key, job_id, name, workflow, description, state, attempt, started_at)
     VALUES ($1, 'ci.yml#deploy#0', 'deploy', 'deploy', 'ci.yml', $2, 'running', 1, now()) RETURNING id`,
    [runId, description],
  );
  const jobId = Number(rows[0]!.id);
  const tokens = await mintRequestTokens(s.db.pool, [
    { jobId, attempt: 1, description: description as unknown as JobDescription },
  ]);
  return { jobId, token: tokens.get(jobId)! };
}

describe("the identity token route", () => {
  it("throttles dead request tokens with its own limiter, not the node's", async () => {
    const { jobId, token } = await runningJob();
    await s.db.pool.query("UPDATE jobs SET state = 'completed' WHERE id = $1", [jobId]);
    for (let i = 0; i < POLICY.maxFailures; i++) assert.equal((await ask(token, "10.0.0.7")).status, 401);
    const limited = await ask(token, "10.0.0.7");
    assert.equal(limited.status, 429);
    assert.equal(limited.body.error?.code, "RATE_LIMITED");
    // The node at that address can still authenticate its agent: its limiter counted nothing.
    assert.equal((await nodeLimiter.check(addressKey("10.0.0.7"))).allowed, true);
  });

  it("gives a job attempt at most its quota of tokens, then a one-line 429", async () => {
    const { jobId, token } = await runningJob();
    for (let i = 0; i < MAX_TOKENS_PER_ATTEMPT; i++) {
      const r = await ask(token, "10.0.0.8");
      assert.equal(r.status, 200, JSON.stringify(r.body));
    }
    const over = await ask(token, "10.0.0.8");
    assert.equal(over.status, 429);
    assert.equal(over.body.error?.code, "RATE_LIMITED");
    assert.equal(
      over.body.error?.message,
      `identity token refused: job ${jobId} attempt 1 has had its ${MAX_TOKENS_PER_ATTEMPT} tokens`,
    );
    // Not a failed authentication: the address is not locked out for other jobs.
    const other = await runningJob();
    assert.equal((await ask(other.token, "10.0.0.8")).status, 200);
  });
});
