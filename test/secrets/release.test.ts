// The release token's rules at the domain level (src/secrets/release.ts): one redemption per
// attempt, bound to the machine that made it; dead for every attempt state but assigned/running
// (a lease expiry puts the job back in the queue; a retry is a new attempt with a new token); a
// new token for the same attempt replaces the old one; the key released opens the run's values.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { isAirlockError } from "../../src/errors/index.js";
import {
  createRunKey,
  issueReleaseTokens,
  openRunKey,
  openRunValue,
  redeemRelease,
  type Kms,
} from "../../src/secrets/index.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { localKms, seedOrganization, seedRepository, seedRun, tempDir, type TempDir } from "./helpers.js";

let db: TestDatabase;
let dir: TempDir;
let kms: Kms;
let runId: number;
let node: number;
let other: number;
before(async () => {
  db = await createTestDatabase();
  dir = await tempDir();
  kms = await localKms(dir.dir);
  const org = await seedOrganization(db.pool, "rel");
  runId = await seedRun(db.pool, await seedRepository(db.pool, org, "rel/app"));
  await createRunKey(db.pool, kms, runId);
  const n = async (name: string): Promise<number> =>
    Number(
      (await db.pool.query<{ id: string }>("INSERT INTO nodes (name) VALUES ($1) RETURNING id", [name]))
        .rows[0]!.id,
    );
  node = await n("n1");
  other = await n("n2");
});
after(async () => {
  await kms.close();
  await db.drop();
  await dir.remove();
});

async function job(state: string, attempt = 1): Promise<number> {
  const { rows } = await db.pool.query<{ id: string }>(
    `INSERT INTO jobs (run_id, key, job_id, name, workflow, state, attempt, node_id)
     VALUES ($1, $2, 'j', 'j', 'ci.yml', $3, $4, $5) RETURNING id`,
    [runId, `k-${Math.random()}`, state, attempt, node],
  );
  return Number(rows[0]!.id);
}

const refused = (e: unknown): boolean => isAirlockError(e) && e.code === "UNAUTHORIZED";

describe("release tokens", () => {
  it("open the run's values once, for the first machine of the attempt's node", async () => {
    const id = await job("running");
    const token = (await issueReleaseTokens(db.pool, [{ jobId: id, attempt: 1 }])).get(id)!;
    await assert.rejects(redeemRelease(db.pool, kms, token, "sbx-1", other), refused, "another node");
    const key = await openRunKey(db.pool, kms, runId);
    const sealed = key.seal("TOKEN", "value-123456");
    key.close();
    const r = await redeemRelease(db.pool, kms, token, "sbx-1", node);
    assert.equal(r.jobId, id);
    assert.equal(openRunValue(r.key, r.binding, "TOKEN", sealed), "value-123456");
    await assert.rejects(redeemRelease(db.pool, kms, token, "sbx-2", node), refused);
    await assert.rejects(redeemRelease(db.pool, kms, token, "sbx-1", node), refused);
    const row = await db.pool.query("SELECT machine FROM job_secret_releases WHERE job_id = $1", [id]);
    assert.equal(row.rows[0].machine, "sbx-1");
  });

  it("are dead unless the attempt is assigned or running", async () => {
    for (const state of ["queued", "completed", "lost"]) {
      const id = await job(state);
      const token = (await issueReleaseTokens(db.pool, [{ jobId: id, attempt: 1 }])).get(id)!;
      await assert.rejects(redeemRelease(db.pool, kms, token, "sbx-1", node), refused, state);
    }
    // The lease expired and the job was placed again: attempt 2 runs, attempt 1's token is dead.
    const id = await job("running", 2);
    const old = (await issueReleaseTokens(db.pool, [{ jobId: id, attempt: 1 }])).get(id)!;
    await assert.rejects(redeemRelease(db.pool, kms, old, "sbx-1", node), refused);
    const current = (await issueReleaseTokens(db.pool, [{ jobId: id, attempt: 2 }])).get(id)!;
    assert.equal((await redeemRelease(db.pool, kms, current, "sbx-1", node)).attempt, 2);
    // A cancel requested while running kills it too.
    const c = await job("running");
    const ct = (await issueReleaseTokens(db.pool, [{ jobId: c, attempt: 1 }])).get(c)!;
    await db.pool.query("UPDATE jobs SET cancel_requested = true WHERE id = $1", [c]);
    await assert.rejects(redeemRelease(db.pool, kms, ct, "sbx-1", node), refused);
  });

  it("a new token for the same attempt replaces the old; bad input is refused plainly", async () => {
    const id = await job("assigned");
    const first = (await issueReleaseTokens(db.pool, [{ jobId: id, attempt: 1 }])).get(id)!;
    const second = (await issueReleaseTokens(db.pool, [{ jobId: id, attempt: 1 }])).get(id)!;
    await assert.rejects(redeemRelease(db.pool, kms, first, "sbx-1", node), refused);
    await assert.rejects(
      redeemRelease(db.pool, kms, second, "bad machine; rm -rf /", node),
      (e: unknown) => isAirlockError(e) && e.code === "USAGE",
    );
    await assert.rejects(redeemRelease(db.pool, kms, "alk_pat_x", "sbx-1", node), refused);
    assert.equal((await redeemRelease(db.pool, kms, second, "sbx-1", node)).jobId, id);
  });
});
