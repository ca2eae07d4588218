// Job identity tokens against a real database and KMS, verified with jose as a relying party
// would: the claims and subject, a wrong audience and an expired token refused, the request
// token dead once its attempt ends, expiry capped by the job's timeout, keys rotated (by time and
// by hand) with the old key published until its tokens expire, and untrusted runs saying so (the
// run's own tier). No token once a cancellation is asked for, at most so many per attempt, the
// environment in its canonical (lower-case) form.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { isAirlockError, ErrorCode } from "../../src/errors/index.js";
import {
  issueIdToken,
  MAX_TOKENS_PER_ATTEMPT,
  mintRequestTokens,
  publishedKeys,
  rotateSigningKey,
} from "../../src/job-identity/index.js";
import type { JobDescription } from "../../src/runner/index.js";
import type { Kms } from "../../src/secrets/index.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import {
  localKms,
  seedOrganization,
  seedRepository,
  seedRun,
  tempDir,
  type TempDir,
} from "../secrets/helpers.js";

const PUBLIC = "https://ci.example.test";
const ISS = `${PUBLIC}/orgs/acme`;
let db: TestDatabase;
let tmp: TempDir;
let kms: Kms;
let acme: number;
let repo: number;
const opts = { publicUrl: PUBLIC, keyDays: 30 };

before(async () => {
  db = await createTestDatabase();
  tmp = await tempDir();
  kms = await localKms(tmp.dir);
  acme = await seedOrganization(db.pool, "acme");
  repo = await seedRepository(db.pool, acme, "acme/app");
});
after(async () => {
  await kms?.close();
  await db?.drop();
  await tmp?.remove();
});

const description = (extra: Partial<JobDescription> = {}): Partial<JobDescription> => ({
  jobId: "deploy",
  workflow: { file: ".github/workflows/ci.yml", name: "CI" },
  contexts: { github: { run_attempt: "1" } } as unknown as JobDescription["contexts"],
  timeoutMinutes: 360,
  permissions: { "id-token": "write" },
  ...extra,
});

/** A running job attempt of a new run, and its request token. */
async function runningJob(
  extra: Partial<JobDescription> = {},
  run?: { event: string; payload: unknown; trustTier?: "trusted" | "untrusted" },
): Promise<{ jobId: number; token: string; runId: number }> {
  const runId = await seedRun(db.pool, repo);
  if (run)
    await db.pool.query("UPDATE runs SET event = $2, payload = $3, trust_tier = $4 WHERE id = $1", [
      runId,
      run.event,
      run.payload,
      run.trustTier ?? "trusted",
    ]);
  const desc = description(extra);
  const { rows } = await db.pool.query<{ id: string }>(
    `INSERT INTO jobs (run_id, key, job_id, name, workflow, description, state, attempt, started_at)
     VALUES ($1, 'ci.yml#deploy#0', 'deploy', 'deploy', 'ci.yml', $2, 'running', 1, now()) RETURNING id`,
    [runId, desc],
  );
  const jobId = Number(rows[0]!.id);
  const tokens = await mintRequestTokens(db.pool, [
    { jobId, attempt: 1, description: desc as JobDescription },
  ]);
  return { jobId, token: tokens.get(jobId)!, runId };
}

const jwks = async (): Promise<ReturnType<typeof createLocalJWKSet>> =>
  createLocalJWKSet({ keys: await publishedKeys(db.pool, acme) });

const unauthorized = (err: unknown): boolean => isAirlockError(err, ErrorCode.UNAUTHORIZED);

describe("job identity tokens", () => {
  it("signs claims a standard JOSE library verifies against the published keys", async () => {
    const { jobId, token, runId } = await runningJob();
    const { value } = await issueIdToken(db.pool, kms, opts, token, "sts.example.test");
    const { payload, protectedHeader } = await jwtVerify(value, await jwks(), {
      issuer: ISS,
      audience: "sts.example.test",
      algorithms: ["RS256"],
    });
    assert.equal(protectedHeader.alg, "RS256");
    assert.equal(payload.sub, `repo:acme@${acme}/acme/app@${repo}:ref:refs/heads/main`);
    assert.equal(payload.repository_id, String(repo));
    assert.equal(payload.organization, "acme");
    assert.equal(payload.run_id, String(runId));
    assert.equal(payload.job, "deploy");
    assert.equal(payload.ref_type, "branch");
    assert.equal(payload.sha, "c".repeat(40));
    assert.equal(payload.trust_tier, "trusted");
    assert.equal(payload.workflow_ref, "acme/app/.github/workflows/ci.yml@refs/heads/main");
    assert.ok(payload.exp! - payload.iat! <= 3600 && payload.nbf === payload.iat && payload.jti);
    // A verifier expecting another audience, or checking after expiry, refuses it.
    await assert.rejects(jwtVerify(value, await jwks(), { issuer: ISS, audience: "other" }), {
      code: "ERR_JWT_CLAIM_VALIDATION_FAILED",
    });
    await assert.rejects(
      jwtVerify(value, await jwks(), { issuer: ISS, currentDate: new Date((payload.exp! + 1) * 1000) }),
      { code: "ERR_JWT_EXPIRED" },
    );
    // Default audience: the organization's issuer URL. Each issuance is audited.
    const plain = await jwtVerify(
      (await issueIdToken(db.pool, kms, opts, token, undefined)).value,
      await jwks(),
    );
    assert.equal(plain.payload.aud, ISS);
    const audit = await db.pool.query("SELECT details FROM audit_log WHERE action = 'job.id_token_issued'");
    assert.ok(audit.rows.length >= 2 && !JSON.stringify(audit.rows).includes(token));
    // The attempt ends: the same request token gets 401.
    await db.pool.query("UPDATE jobs SET state = 'completed' WHERE id = $1", [jobId]);
    await assert.rejects(issueIdToken(db.pool, kms, opts, token, "x"), unauthorized);
  });

  it("refuses a token of an earlier attempt, and caps expiry at the job's timeout", async () => {
    const { jobId, token } = await runningJob({ timeoutMinutes: 10 });
    const { value } = await issueIdToken(db.pool, kms, opts, token, "aud");
    const { payload } = await jwtVerify(value, await jwks());
    assert.ok(payload.exp! - payload.iat! <= 600, `exp ${payload.exp! - payload.iat!} s after iat`);
    await db.pool.query("UPDATE jobs SET attempt = 2, state = 'assigned' WHERE id = $1", [jobId]);
    await assert.rejects(issueIdToken(db.pool, kms, opts, token, "aud"), unauthorized);
    await assert.rejects(issueIdToken(db.pool, kms, opts, "alk_idt_nope", "aud"), unauthorized);
    await assert.rejects(issueIdToken(db.pool, kms, opts, token, "two words"), (e) =>
      isAirlockError(e, ErrorCode.USAGE),
    );
  });

  it("mints request tokens only for jobs with id-token: write", async () => {
    const minted = await mintRequestTokens(db.pool, [
      {
        jobId: 1,
        attempt: 1,
        description: { permissions: { contents: "read" } } as unknown as JobDescription,
      },
      { jobId: 2, attempt: 1, description: null },
    ]);
    assert.equal(minted.size, 0);
  });

  it("says environment, pull request and untrusted in the subject and claims", async () => {
    const env = await runningJob({ environment: { name: "production" } });
    const e = await jwtVerify((await issueIdToken(db.pool, kms, opts, env.token, "a")).value, await jwks());
    assert.equal(e.payload.sub, `repo:acme@${acme}/acme/app@${repo}:environment:production`);
    assert.equal(e.payload.environment, "production");
    const fork = await runningJob(
      {},
      {
        event: "pull_request",
        payload: {
          repository: { full_name: "acme/app" },
          pull_request: { head: { repo: { full_name: "mallory/app", fork: true } } },
        },
        trustTier: "untrusted",
      },
    );
    const f = await jwtVerify((await issueIdToken(db.pool, kms, opts, fork.token, "a")).value, await jwks());
    assert.equal(f.payload.sub, `repo:acme@${acme}/acme/app@${repo}:pull_request`);
    assert.equal(f.payload.trust_tier, "untrusted");
  });

  it("rotates keys and keeps an old key published until its tokens have expired", async () => {
    const { token } = await runningJob();
    const before = await issueIdToken(db.pool, kms, opts, token, "a");
    const oldKid = decodeProtectedHeader(before.value).kid!;
    const newKid = await rotateSigningKey(db.pool, kms, acme);
    assert.notEqual(newKid, oldKid);
    const after = await issueIdToken(db.pool, kms, opts, token, "a");
    assert.equal(decodeProtectedHeader(after.value).kid, newKid);
    // Both verify: the old key is still published.
    await jwtVerify(before.value, await jwks());
    await jwtVerify(after.value, await jwks());
    const kids = async (): Promise<string[]> => (await publishedKeys(db.pool, acme)).map((k) => k.kid!);
    assert.deepEqual((await kids()).slice(0, 2), [newKid, oldKid]);
    // Retired over an hour ago but a token it signed still valid: still published.
    await db.pool.query(
      "UPDATE job_identity_keys SET retired_at = now() - interval '2 hours', last_expiry = now() + interval '5 minutes' WHERE kid = $1",
      [oldKid],
    );
    assert.ok((await kids()).includes(oldKid));
    // Once every token it signed has expired, it is gone; a verifier refuses its tokens.
    await db.pool.query(
      "UPDATE job_identity_keys SET last_expiry = now() - interval '1 second' WHERE kid = $1",
      [oldKid],
    );
    assert.ok(!(await kids()).includes(oldKid));
    await assert.rejects(jwtVerify(before.value, await jwks()), { code: "ERR_JWKS_NO_MATCHING_KEY" });
    // A key past its days is replaced at the next token.
    await db.pool.query(
      "UPDATE job_identity_keys SET created_at = now() - interval '31 days' WHERE kid = $1",
      [newKid],
    );
    const later = await issueIdToken(db.pool, kms, opts, token, "a");
    assert.notEqual(decodeProtectedHeader(later.value).kid, newKid);
    // The private keys are stored sealed: no PEM or JWK private part in the table.
    const { rows } = await db.pool.query("SELECT * FROM job_identity_keys");
    assert.ok(!JSON.stringify(rows).includes('"d"') && !JSON.stringify(rows).includes("PRIVATE"));
  });

  it("refuses a token once the job's cancellation is asked for", async () => {
    const { jobId, token } = await runningJob();
    await issueIdToken(db.pool, kms, opts, token, "aud");
    await db.pool.query("UPDATE jobs SET cancel_requested = true WHERE id = $1", [jobId]);
    await assert.rejects(issueIdToken(db.pool, kms, opts, token, "aud"), unauthorized);
  });

  it("issues at most so many tokens per job attempt, counted in the database", async () => {
    assert.equal(MAX_TOKENS_PER_ATTEMPT, 50);
    const { jobId, token } = await runningJob();
    const capped = { ...opts, maxTokens: 3 };
    for (let i = 0; i < 3; i++) await issueIdToken(db.pool, kms, capped, token, `aud-${i}`);
    const signed = async (): Promise<number> =>
      (
        await db.pool.query<{ n: string }>(
          "SELECT count(*) AS n FROM audit_log WHERE action = 'job.id_token_issued' AND object_id = $1",
          [String(jobId)],
        )
      ).rows[0]!.n as unknown as number;
    const before = Number(await signed());
    await assert.rejects(issueIdToken(db.pool, kms, capped, token, "aud"), (e) => {
      assert.ok(isAirlockError(e, ErrorCode.RATE_LIMITED), String(e));
      assert.equal(e.message, `identity token refused: job ${jobId} attempt 1 has had its 3 tokens`);
      return true;
    });
    assert.equal(Number(await signed()), before, "nothing signed or audited past the cap");
    const { rows } = await db.pool.query<{ issued: number }>(
      "SELECT issued FROM job_request_tokens WHERE job_id = $1",
      [jobId],
    );
    assert.equal(rows[0]!.issued, 3);
    // A new attempt starts from nothing.
    await db.pool.query("UPDATE jobs SET attempt = 2 WHERE id = $1", [jobId]);
    const next = await mintRequestTokens(db.pool, [
      { jobId, attempt: 2, description: description() as JobDescription },
    ]);
    await issueIdToken(db.pool, kms, capped, next.get(jobId)!, "aud");
  });

  it("names the environment in its canonical lower-case form", async () => {
    const env = await runningJob({ environment: { name: "Production" } });
    const e = await jwtVerify((await issueIdToken(db.pool, kms, opts, env.token, "a")).value, await jwks());
    assert.equal(e.payload.sub, `repo:acme@${acme}/acme/app@${repo}:environment:production`);
    assert.equal(e.payload.environment, "production");
  });

  it("takes trust_tier from the run's own tier", async () => {
    const untrustedPush = await runningJob({}, { event: "push", payload: {}, trustTier: "untrusted" });
    const u = await jwtVerify(
      (await issueIdToken(db.pool, kms, opts, untrustedPush.token, "a")).value,
      await jwks(),
    );
    assert.equal(u.payload.trust_tier, "untrusted");
    // The run says trusted (e.g. approved as the repository's own): the payload does not overrule it.
    const trustedPr = await runningJob(
      {},
      {
        event: "pull_request",
        payload: { pull_request: { head: { repo: { full_name: "acme/app", fork: true } } } },
        trustTier: "trusted",
      },
    );
    const t = await jwtVerify(
      (await issueIdToken(db.pool, kms, opts, trustedPr.token, "a")).value,
      await jwks(),
    );
    assert.equal(t.payload.trust_tier, "trusted");
  });
});
