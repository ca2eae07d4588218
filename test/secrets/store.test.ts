// The sealed secret store on a real database: round trip, write-only listings, canonical names,
// tampered and swapped rows (another secret, organization, version; an organization key moved to
// another organization) refused, GitHub's name rules, the 48 KB cap and per-level limits.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { isAirlockError } from "../../src/errors/index.js";
import {
  deleteSecret,
  environmentScope,
  getSecret,
  listSecrets,
  organizationScope,
  readSecret,
  repositoryScope,
  setSecret,
  type Kms,
} from "../../src/secrets/index.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { localKms, seedOrganization, seedRepository, tempDir, type TempDir } from "./helpers.js";

let db: TestDatabase;
let tmp: TempDir;
let kms: Kms;
let acme: number;
let other: number;
let repo: number;

before(async () => {
  db = await createTestDatabase();
  tmp = await tempDir();
  kms = await localKms(tmp.dir);
  acme = await seedOrganization(db.pool, "acme");
  other = await seedOrganization(db.pool, "other");
  repo = await seedRepository(db.pool, acme, "acme/app");
});
after(async () => {
  await kms?.close();
  await db?.drop();
  await tmp?.remove();
});

const unreadable = (e: unknown): boolean => isAirlockError(e, "SECRET_UNREADABLE");
const set = (scope: ReturnType<typeof organizationScope>, name: string, value: string) =>
  setSecret(db.pool, kms, scope, { name, value, actor: "alice" });
const row = async (name: string, organizationId = acme) =>
  (
    await db.pool.query<Record<string, unknown>>(
      "SELECT * FROM secrets WHERE name = $1 AND organization_id = $2 AND repository_id IS NULL",
      [name, organizationId],
    )
  ).rows[0]!;

describe("secret store", () => {
  it("seals a value and reads it back; the database holds no plain value; listings show no value", async () => {
    const made = await set(organizationScope(acme), "deploy_key", "hunter2-the-value");
    assert.equal(made.created, true);
    assert.deepEqual(
      { name: made.secret.name, level: made.secret.level, version: made.secret.version },
      { name: "DEPLOY_KEY", level: "organization", version: 1 },
    );
    assert.equal(await readSecret(db.pool, kms, organizationScope(acme), "Deploy_Key"), "hunter2-the-value");
    const dump = JSON.stringify((await db.pool.query("SELECT * FROM secrets")).rows);
    assert.ok(!dump.includes("hunter2"));
    assert.ok(
      !Buffer.from(JSON.stringify((await db.pool.query("SELECT * FROM secrets")).rows)).includes("hunter2"),
    );
    const list = await listSecrets(db.pool, organizationScope(acme));
    assert.deepEqual(Object.keys(list[0]!).sort(), [
      "createdAt",
      "createdBy",
      "environment",
      "level",
      "name",
      "updatedAt",
      "updatedBy",
      "version",
    ]);
    assert.ok(!JSON.stringify(list).includes("hunter2"));
  });

  it("names are case-insensitive: a second set is the next version of the same secret, with a fresh DEK", async () => {
    const before = await row("DEPLOY_KEY");
    const again = await setSecret(db.pool, kms, organizationScope(acme), {
      name: "deploy_KEY",
      value: "second-value",
      actor: "bob",
    });
    assert.equal(again.created, false);
    assert.equal(again.secret.version, 2);
    assert.equal(again.secret.createdBy, "alice");
    assert.equal(again.secret.updatedBy, "bob");
    const after = await row("DEPLOY_KEY");
    assert.equal(after.id, before.id);
    assert.notDeepEqual(after.wrapped_dek, before.wrapped_dek);
    assert.equal(await readSecret(db.pool, kms, organizationScope(acme), "DEPLOY_KEY"), "second-value");
    assert.equal((await getSecret(db.pool, organizationScope(acme), "deploy_key")).version, 2);
  });

  it("refuses a tampered ciphertext, nonce or wrapped DEK in the database", async () => {
    await set(organizationScope(acme), "TAMPER", "tamper-value");
    for (const column of ["ciphertext", "nonce", "wrapped_dek"]) {
      const r = await row("TAMPER");
      const bytes = Buffer.from(r[column] as Buffer);
      bytes[bytes.length - 1]! ^= 1;
      await db.pool.query(`UPDATE secrets SET ${column} = $2 WHERE id = $1`, [r.id, bytes]);
      await assert.rejects(readSecret(db.pool, kms, organizationScope(acme), "TAMPER"), unreadable, column);
      await db.pool.query(`UPDATE secrets SET ${column} = $2 WHERE id = $1`, [r.id, r[column]]);
    }
    assert.equal(await readSecret(db.pool, kms, organizationScope(acme), "TAMPER"), "tamper-value");
  });

  it("refuses a ciphertext copied to another row: another secret, another organization, an older version", async () => {
    await set(organizationScope(acme), "A", "value of a");
    await set(organizationScope(acme), "B", "value of b");
    await set(organizationScope(other), "A", "other's a");
    const copy = async (from: Record<string, unknown>, toId: unknown): Promise<void> => {
      await db.pool.query(
        "UPDATE secrets SET wrapped_dek = $2, nonce = $3, ciphertext = $4, organization_key_id = $5 WHERE id = $1",
        [toId, from.wrapped_dek, from.nonce, from.ciphertext, from.organization_key_id],
      );
    };
    // Another secret of the same organization.
    const b = await row("B");
    await copy(await row("A"), b.id);
    await assert.rejects(readSecret(db.pool, kms, organizationScope(acme), "B"), unreadable);
    // Another organization (same name, even).
    const otherA = await row("A", other);
    await copy(await row("A"), otherA.id);
    await assert.rejects(readSecret(db.pool, kms, organizationScope(other), "A"), unreadable);
    // An older version replayed into the row of the newer one.
    const v1 = await row("A");
    await set(organizationScope(acme), "A", "value of a, version 2");
    await copy(v1, v1.id);
    await assert.rejects(readSecret(db.pool, kms, organizationScope(acme), "A"), unreadable);
    // Changing the row's place instead of its bytes fails too: the AAD names the level.
    await set(organizationScope(acme), "MOVED", "value-v-1");
    await db.pool.query("UPDATE secrets SET repository_id = $2 WHERE name = $1", ["MOVED", repo]);
    await assert.rejects(readSecret(db.pool, kms, repositoryScope(acme, repo), "MOVED"), unreadable);
  });

  it("refuses an organization key moved to another organization", async () => {
    await set(organizationScope(other), "KEYED", "value-v-1");
    const keys = await db.pool.query<{ id: string; organization_id: string }>(
      "SELECT id, organization_id FROM organization_keys WHERE destroyed_at IS NULL ORDER BY id",
    );
    assert.equal(keys.rows.length, 2);
    const [k1, k2] = [keys.rows[0]!, keys.rows[1]!];
    await db.pool.query(
      `UPDATE organization_keys SET wrapped_dek = (SELECT wrapped_dek FROM organization_keys WHERE id = $1),
         kms_key_id = (SELECT kms_key_id FROM organization_keys WHERE id = $1) WHERE id = $2`,
      [k1.id, k2.id],
    );
    await assert.rejects(readSecret(db.pool, kms, organizationScope(other), "KEYED"), unreadable);
  });

  it("deletes a secret; deleting or reading one that does not exist is NOT_FOUND", async () => {
    const gone = await deleteSecret(db.pool, organizationScope(acme), "tamper");
    assert.equal(gone.name, "TAMPER");
    await assert.rejects(deleteSecret(db.pool, organizationScope(acme), "TAMPER"), (e) =>
      isAirlockError(e, "NOT_FOUND"),
    );
    await assert.rejects(getSecret(db.pool, organizationScope(acme), "TAMPER"), (e) =>
      isAirlockError(e, "NOT_FOUND"),
    );
  });
});

describe("names, sizes and limits", () => {
  it("refuses names GitHub refuses, in one line naming every problem", async () => {
    const scope = repositoryScope(acme, repo);
    for (const [name, problem] of [
      ["", /empty/],
      ["MY SECRET", /only letters, digits and '_'/],
      ["my-secret", /only letters/],
      ["1ST", /must not start with a digit/],
      ["github_token", /GITHUB_ prefix is reserved/],
      ["9 bad-name", /only letters.*; it must not start with a digit/],
      ["é", /only letters/],
      ["A".repeat(201), /longer than 200/],
    ] as const)
      await assert.rejects(
        set(scope, name, "value-v-1"),
        (e) => isAirlockError(e, "SECRET_INVALID") && problem.test(e.message) && !e.message.includes("\n"),
        name,
      );
    assert.equal((await set(scope, "_underscore_9", "value-v-1")).secret.name, "_UNDERSCORE_9");
  });

  it("caps values at 48 KB (bytes, not characters) and refuses empty ones, never echoing the value", async () => {
    const scope = repositoryScope(acme, repo);
    assert.equal((await set(scope, "BIG", "x".repeat(48 * 1024))).secret.version, 1);
    await assert.rejects(
      set(scope, "BIG", "x".repeat(48 * 1024 + 1)),
      (e) => isAirlockError(e, "SECRET_TOO_LARGE") && /49153 bytes; the limit is 49152/.test(e.message),
    );
    await assert.rejects(set(scope, "WIDE", "é".repeat(30000)), (e) => isAirlockError(e, "SECRET_TOO_LARGE"));
    await assert.rejects(set(scope, "EMPTY", ""), (e) => isAirlockError(e, "SECRET_INVALID"));
  });

  it("refuses a value shorter than the masking minimum when it is set, in one line without the value", async () => {
    const scope = repositoryScope(acme, repo);
    for (const value of ["hunter2", "  qwxz \n", "zq"])
      await assert.rejects(
        set(scope, "PIN", value),
        (e) =>
          isAirlockError(e, "SECRET_TOO_SHORT") &&
          /secret PIN is shorter than 8 characters/.test(e.message) &&
          !e.message.includes("\n") &&
          !e.message.includes(value.trim()),
      );
    await assert.rejects(getSecret(db.pool, scope, "PIN"), (e) => isAirlockError(e, "NOT_FOUND"));
    assert.equal((await set(scope, "PIN", "12345678")).secret.version, 1);
    // Debug switches are `true`, not secrets (as the runner treats them).
    assert.equal((await set(scope, "ACTIONS_STEP_DEBUG", "true")).secret.version, 1);
  });

  it("refuses bad environment names, and holds at most 100 secrets per environment", async () => {
    assert.throws(
      () => environmentScope(acme, repo, "a/b"),
      (e) => isAirlockError(e, "SECRET_INVALID"),
    );
    assert.throws(
      () => environmentScope(acme, repo, " prod"),
      (e) => isAirlockError(e, "SECRET_INVALID"),
    );
    assert.throws(
      () => environmentScope(acme, repo, ""),
      (e) => isAirlockError(e, "SECRET_INVALID"),
    );
    const env = environmentScope(acme, repo, "Staging");
    assert.equal(env.environment, "staging");
    for (let i = 0; i < 100; i++) await set(env, `S${i}`, "value-v-1");
    await assert.rejects(
      set(env, "ONE_TOO_MANY", "value-v-1"),
      (e) => isAirlockError(e, "SECRET_INVALID") && /100 secrets/.test(e.message),
    );
    assert.equal((await set(env, "S0", "updating is fine")).secret.version, 2);
    assert.equal((await listSecrets(db.pool, environmentScope(acme, repo, "STAGING"))).length, 100);
  });
});
