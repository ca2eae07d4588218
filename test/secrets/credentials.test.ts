// Job-source credentials sealed like secrets: a new repository's webhook secret is stored only
// sealed (the clear column stays empty), clear ones of older installations are sealed at start
// and cleared, a credential row copied to another repository does not open, and crypto-shredding
// the organization's key makes the webhook secret unreadable.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { isAirlockError } from "../../src/errors/index.js";
import { createRepository } from "../../src/orchestrator/catalog/index.js";
import { makeLinks } from "../../src/orchestrator/views/index.js";
import {
  destroyOrganizationKey,
  sealLegacyWebhookSecrets,
  webhookSecretOf,
  type Kms,
} from "../../src/secrets/index.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { localKms, seedOrganization, seedRepository, tempDir, type TempDir } from "./helpers.js";

let db: TestDatabase;
let tmp: TempDir;
let kms: Kms;
let acme: number;

before(async () => {
  db = await createTestDatabase();
  tmp = await tempDir();
  kms = await localKms(tmp.dir);
  acme = await seedOrganization(db.pool, "acme");
});
after(async () => {
  await kms?.close();
  await db?.drop();
  await tmp?.remove();
});

const clear = async (id: number): Promise<unknown> =>
  (await db.pool.query("SELECT webhook_secret FROM repositories WHERE id = $1", [id])).rows[0]
    ?.webhook_secret;

describe("repository credentials", () => {
  it("a new repository's webhook secret is stored sealed only", async () => {
    const repo = await createRepository(
      db.pool,
      { name: "acme/new", cloneUrl: "/srv/new", organization: "acme" },
      makeLinks("https://ci.example.test"),
      kms,
    );
    assert.match(repo.webhookSecret, /^[0-9a-f]{64}$/);
    assert.equal(await clear(repo.id), null);
    const dump = JSON.stringify((await db.pool.query("SELECT * FROM repository_credentials")).rows);
    assert.ok(!dump.includes(repo.webhookSecret));
    assert.equal(await webhookSecretOf(db.pool, kms, repo.id), repo.webhookSecret);
    assert.equal(await webhookSecretOf(db.pool, kms, 999999), undefined);
  });

  it("seals the clear webhook secrets of older rows at start, once", async () => {
    const old = await seedRepository(db.pool, acme, "acme/old"); // written in clear ('hook')
    assert.equal(await webhookSecretOf(db.pool, kms, old), "hook");
    assert.equal(await sealLegacyWebhookSecrets(db.pool, kms), 1);
    assert.equal(await sealLegacyWebhookSecrets(db.pool, kms), 0);
    assert.equal(await clear(old), null);
    assert.equal(await webhookSecretOf(db.pool, kms, old), "hook");
  });

  it("a credential copied to another repository does not open; shredding the organization key ends them", async () => {
    const a = await seedRepository(db.pool, acme, "acme/a");
    const b = await seedRepository(db.pool, acme, "acme/b");
    await sealLegacyWebhookSecrets(db.pool, kms);
    await db.pool.query(
      `UPDATE repository_credentials SET (wrapped_dek, nonce, ciphertext) =
         (SELECT wrapped_dek, nonce, ciphertext FROM repository_credentials WHERE repository_id = $1)
       WHERE repository_id = $2`,
      [a, b],
    );
    await assert.rejects(webhookSecretOf(db.pool, kms, b), (e) => isAirlockError(e, "SECRET_UNREADABLE"));
    assert.equal(await webhookSecretOf(db.pool, kms, a), "hook");
    await destroyOrganizationKey(db.pool, acme);
    await assert.rejects(webhookSecretOf(db.pool, kms, a), (e) => isAirlockError(e, "KEY_DESTROYED"));
  });
});
