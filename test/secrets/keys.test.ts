// The key hierarchy on a real database and local KMS: rotation re-wraps every organization DEK
// under a new KMS key without changing a secret row, the old KMS key can then be retired and the
// secrets still decrypt; crypto-shredding an organization's DEK makes its secrets (and run keys)
// fail with KEY_DESTROYED while other organizations are untouched; per-run keys are bound to
// their run and name; a KMS that lacks a key in use is refused.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isAirlockError } from "../../src/errors/index.js";
import {
  checkKmsHoldsKeys,
  createRunKey,
  destroyOrganizationKey,
  openRunKey,
  organizationScope,
  readSecret,
  repositoryScope,
  rotateKms,
  sealForRun,
  secretsForRun,
  setSecret,
  unsealForRun,
  type Kms,
} from "../../src/secrets/index.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { localKms, seedOrganization, seedRepository, seedRun, tempDir, type TempDir } from "./helpers.js";

let db: TestDatabase;
let tmp: TempDir;
let kms: Kms;
const org: Record<string, number> = {};
const repo: Record<string, number> = {};

before(async () => {
  db = await createTestDatabase();
  tmp = await tempDir();
  kms = await localKms(tmp.dir);
  for (const name of ["acme", "globex", "initech"]) {
    org[name] = await seedOrganization(db.pool, name);
    repo[name] = await seedRepository(db.pool, org[name], `${name}/app`);
    await setSecret(db.pool, kms, organizationScope(org[name]), {
      name: "ORG_TOKEN",
      value: `${name}-org`,
      actor: "a",
    });
    await setSecret(db.pool, kms, repositoryScope(org[name], repo[name]), {
      name: "REPO_TOKEN",
      value: `${name}-repo`,
      actor: "a",
    });
  }
});
after(async () => {
  await kms?.close();
  await db?.drop();
  await tmp?.remove();
});

const secretRows = async (): Promise<string> =>
  JSON.stringify((await db.pool.query("SELECT * FROM secrets ORDER BY id")).rows);

describe("rotation", () => {
  it("re-wraps every organization DEK under a new KMS key; no secret row changes; secrets still decrypt", async () => {
    const before = await secretRows();
    const first = await kms.currentKeyId();
    const report = await rotateKms(db.pool, kms);
    assert.equal(report.previousKeyId, first);
    assert.notEqual(report.currentKeyId, first);
    assert.equal(report.rewrapped, 3);
    assert.equal(report.alreadyCurrent, 0);
    assert.equal(report.secrets, 6);
    assert.deepEqual(report.kept, [first], "the old key is kept until retired");
    assert.equal(await secretRows(), before);
    const { rows } = await db.pool.query<{ kms_key_id: string; rewrapped_at: Date | null }>(
      "SELECT kms_key_id, rewrapped_at FROM organization_keys",
    );
    assert.ok(rows.every((r) => r.kms_key_id === report.currentKeyId && r.rewrapped_at !== null));
    for (const name of ["acme", "globex", "initech"])
      assert.deepEqual(
        await secretsForRun(db.pool, kms, { organizationId: org[name]!, repositoryId: repo[name]! }),
        {
          ORG_TOKEN: `${name}-org`,
          REPO_TOKEN: `${name}-repo`,
        },
      );
  });

  it("retires the old KMS key once nothing is wrapped under it; secrets still decrypt", async () => {
    const before = await secretRows();
    const report = await rotateKms(db.pool, kms, { retire: true });
    assert.equal(report.rewrapped, 3);
    assert.equal(report.retired.length, 2);
    assert.deepEqual(report.kept, []);
    assert.deepEqual(await kms.keyIds(), [report.currentKeyId]);
    const file = await readFile(join(tmp.dir, "kms.key"), "utf8");
    for (const id of report.retired) assert.ok(!file.includes(id));
    assert.equal(await secretRows(), before);
    assert.equal(await readSecret(db.pool, kms, organizationScope(org.acme!), "ORG_TOKEN"), "acme-org");
    // Again without a new key: nothing to re-wrap.
    const again = await rotateKms(db.pool, kms, { newKey: false });
    assert.equal(again.rewrapped, 0);
    assert.equal(again.alreadyCurrent, 3);
  });

  it("refuses to work with a KMS that lacks a key organization keys are wrapped under", async () => {
    await checkKmsHoldsKeys(db.pool, kms);
    const stranger = await localKms(tmp.dir, "other.key");
    await assert.rejects(
      checkKmsHoldsKeys(db.pool, stranger),
      (e) => isAirlockError(e, "KMS_KEY_MISSING") && /3 organization key/.test(e.message),
    );
    await assert.rejects(readSecret(db.pool, stranger, organizationScope(org.acme!), "ORG_TOKEN"), (e) =>
      isAirlockError(e, "KMS_KEY_MISSING"),
    );
    await stranger.close();
  });
});

describe("per-run keys", () => {
  it("seal values for one run and name; another run or name cannot open them", async () => {
    const run1 = await seedRun(db.pool, repo.acme!);
    const run2 = await seedRun(db.pool, repo.acme!);
    await createRunKey(db.pool, kms, run1);
    const wrapped = (await db.pool.query("SELECT run_key_wrapped FROM runs WHERE id = $1", [run1])).rows[0];
    await createRunKey(db.pool, kms, run1); // idempotent: the run keeps its key
    assert.deepEqual(
      (await db.pool.query("SELECT run_key_wrapped FROM runs WHERE id = $1", [run1])).rows[0],
      wrapped,
    );
    await createRunKey(db.pool, kms, run2);
    const sealed = await sealForRun(db.pool, kms, run1, "TOKEN", "run secret");
    assert.match(sealed, /^a1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    assert.ok(!sealed.includes("run secret"));
    assert.equal(await unsealForRun(db.pool, kms, run1, "TOKEN", sealed), "run secret");
    const unreadable = (e: unknown): boolean => isAirlockError(e, "SECRET_UNREADABLE");
    await assert.rejects(unsealForRun(db.pool, kms, run2, "TOKEN", sealed), unreadable);
    await assert.rejects(unsealForRun(db.pool, kms, run1, "OTHER", sealed), unreadable);
    await assert.rejects(unsealForRun(db.pool, kms, run1, "TOKEN", "a1.AAAA.BBBB"), unreadable);
    const key = await openRunKey(db.pool, kms, run2);
    assert.equal(key.open("X", key.seal("X", "many values, one unwrap")), "many values, one unwrap");
    key.close();
  });
});

describe("crypto-shredding", () => {
  it("destroying an organization's DEK makes its secrets and run keys unreadable, and nothing else", async () => {
    const run = await seedRun(db.pool, repo.globex!);
    await createRunKey(db.pool, kms, run);
    const sealed = await sealForRun(db.pool, kms, run, "T", "v");
    assert.equal(await destroyOrganizationKey(db.pool, org.globex!), 1);
    assert.equal(await destroyOrganizationKey(db.pool, org.globex!), 0);
    const gone = (e: unknown): boolean =>
      isAirlockError(e, "KEY_DESTROYED") && /crypto-shredded/.test(e.message);
    await assert.rejects(readSecret(db.pool, kms, organizationScope(org.globex!), "ORG_TOKEN"), gone);
    await assert.rejects(
      secretsForRun(db.pool, kms, { organizationId: org.globex!, repositoryId: repo.globex! }),
      gone,
    );
    await assert.rejects(unsealForRun(db.pool, kms, run, "T", sealed), gone);
    const { rows } = await db.pool.query(
      "SELECT wrapped_dek, kms_key_id, destroyed_at FROM organization_keys WHERE organization_id = $1",
      [org.globex],
    );
    assert.equal(rows[0].wrapped_dek, null);
    assert.notEqual(rows[0].destroyed_at, null);
    assert.equal(await readSecret(db.pool, kms, organizationScope(org.initech!), "ORG_TOKEN"), "initech-org");
    // Setting the secret again gives the organization a new key.
    await setSecret(db.pool, kms, organizationScope(org.globex!), {
      name: "ORG_TOKEN",
      value: "anew-value",
      actor: "a",
    });
    assert.equal(await readSecret(db.pool, kms, organizationScope(org.globex!), "ORG_TOKEN"), "anew-value");
    await assert.rejects(
      readSecret(db.pool, kms, repositoryScope(org.globex!, repo.globex!), "REPO_TOKEN"),
      gone,
    );
  });

  it("deleting an organization deletes its keys and secrets with it", async () => {
    await db.pool.query("DELETE FROM repositories WHERE organization_id = $1", [org.initech]);
    await db.pool.query("DELETE FROM organizations WHERE id = $1", [org.initech]);
    const n = async (table: string): Promise<number> =>
      (
        await db.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM ${table} WHERE organization_id = $1`,
          [org.initech],
        )
      ).rows[0]!.n;
    assert.equal(await n("organization_keys"), 0);
    assert.equal(await n("secrets"), 0);
  });
});
