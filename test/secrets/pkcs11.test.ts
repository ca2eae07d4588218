// The pkcs11 KMS provider end to end against SoftHSM2 (Debian's softhsm2): a token made for this
// test in a temporary SOFTHSM2_CONF, its first AES key made with pkcs11-tool as an operator would;
// the PIN in a 0600 file. The provider wraps and unwraps inside the token (AES-GCM, context bound),
// the store and resolver run on it, rotation makes a second key in the token and re-wraps without
// touching a secret row, retiring destroys the first; then the whole service runs on the HSM and
// `airlock secrets rotate` rotates it while it serves.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { inspect } from "node:util";
import { after, before, describe, it } from "node:test";
import { Command } from "commander";
import { registerSecretsAdmin } from "../../src/cli/secrets-admin.js";
import { isAirlockError } from "../../src/errors/index.js";
import {
  openKms,
  organizationScope,
  readSecret,
  repositoryScope,
  rotateKms,
  secretsForRun,
  setSecret,
  type Kms,
  type KmsSettings,
} from "../../src/secrets/index.js";
import { loadServerConfig } from "../../src/server/index.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { startTestService } from "../helpers/service.js";
import { seedOrganization, seedRepository, tempDir, type TempDir } from "./helpers.js";

const run = promisify(execFile);
const MODULE = "/usr/lib/softhsm/libsofthsm2.so";
const TOKEN = "airlock-test";
const PIN = "pin-7fa2c91e";

let tmp: TempDir;
let pinFile: string;
let slot = 0;
let settings: Extract<KmsSettings, { provider: "pkcs11" }>;

before(async () => {
  tmp = await tempDir("airlock-softhsm-");
  const conf = join(tmp.dir, "softhsm2.conf");
  await run("mkdir", ["-m", "700", join(tmp.dir, "tokens")]);
  await writeFile(
    conf,
    `directories.tokendir = ${join(tmp.dir, "tokens")}\nobjectstore.backend = file\nlog.level = ERROR\n`,
  );
  // Read by SoftHSM2 at C_Initialize, in this process and the tools'.
  process.env.SOFTHSM2_CONF = conf;
  const init = await run("softhsm2-util", [
    "--init-token",
    "--free",
    "--label",
    TOKEN,
    "--so-pin",
    "so-pin-1234",
    "--pin",
    PIN,
  ]);
  slot = Number(/reassigned to slot (\d+)/.exec(init.stdout)?.[1]);
  assert.ok(slot > 0, init.stdout);
  await run("pkcs11-tool", [
    ...["--module", MODULE, "--token-label", TOKEN, "--login", "--pin", PIN],
    ...["--keygen", "--key-type", "AES:32", "--label", "airlock-kms", "--id", "01"],
  ]);
  pinFile = join(tmp.dir, "pin");
  await writeFile(pinFile, `${PIN}\n`, { mode: 0o600 });
  const yaml = join(tmp.dir, "airlock.yaml");
  await writeFile(
    yaml,
    `kms:\n  provider: pkcs11\n  pkcs11:\n    module: ${MODULE}\n    tokenLabel: ${TOKEN}\n    pinFile: ${pinFile}\n`,
  );
  const config = loadServerConfig({ file: yaml, env: {} });
  assert.equal(config.kms.provider, "pkcs11");
  settings = config.kms;
});
after(async () => {
  await tmp?.remove();
});

describe("pkcs11 KMS on SoftHSM2", () => {
  it("compiles the config with the PIN from its file, and never prints the PIN", () => {
    assert.equal(settings.keyLabel, "airlock-kms");
    assert.equal(settings.tokenLabel, TOKEN);
    assert.equal(settings.pin.reveal(), PIN);
    assert.ok(!JSON.stringify(settings).includes(PIN));
    assert.ok(!inspect(settings, { depth: 5 }).includes(PIN));
    assert.ok(!`${settings.pin}`.includes(PIN));
  });

  it("refuses a wrong PIN (naming the setting, not the PIN) and a label without a key", async () => {
    const { Redacted } = await import("../../src/secrets/index.js");
    await assert.rejects(
      openKms({ ...settings, pin: new Redacted("wrong-pin-0000") }),
      (e) =>
        isAirlockError(e, "KMS_FAILED") &&
        /pinFile: the token refused the PIN/.test(e.message) &&
        !e.message.includes("wrong-pin"),
    );
    await assert.rejects(
      openKms({ ...settings, keyLabel: "no-such-key" }),
      (e) =>
        isAirlockError(e, "KMS_KEY_MISSING") &&
        /pkcs11-tool .* --keygen --key-type AES:32 --label no-such-key --id 01/.test(e.message),
    );
    await assert.rejects(
      openKms({ ...settings, tokenLabel: "nope" }),
      (e) => isAirlockError(e, "KMS_FAILED") && /tokenLabel/.test(e.message),
    );
  });

  it("wraps and unwraps inside the token, bound to its context", async () => {
    const kms = await openKms(settings);
    try {
      assert.deepEqual(await kms.keyIds(), ["pkcs11:airlock-kms:1"]);
      const dek = Buffer.alloc(32, 7);
      const w = await kms.wrap(dek, Buffer.from("org 1"));
      assert.equal(w.keyId, "pkcs11:airlock-kms:1");
      assert.equal(w.wrapped.length, 60);
      assert.ok(!w.wrapped.includes(dek));
      assert.deepEqual(await kms.unwrap(w, Buffer.from("org 1")), dek);
      const unreadable = (e: unknown): boolean => isAirlockError(e, "SECRET_UNREADABLE");
      await assert.rejects(kms.unwrap(w, Buffer.from("org 2")), unreadable);
      const tampered = Buffer.from(w.wrapped);
      tampered[20]! ^= 1;
      await assert.rejects(kms.unwrap({ ...w, wrapped: tampered }, Buffer.from("org 1")), unreadable);
      await assert.rejects(kms.unwrap({ ...w, keyId: "pkcs11:airlock-kms:9" }, Buffer.from("org 1")), (e) =>
        isAirlockError(e, "KMS_KEY_MISSING"),
      );
      // Concurrent calls are serialized on the one session.
      const many = await Promise.all(
        Array.from({ length: 20 }, (_, i) => kms.wrap(Buffer.alloc(32, i), Buffer.from(`c${i}`))),
      );
      const back = await Promise.all(many.map((m, i) => kms.unwrap(m, Buffer.from(`c${i}`))));
      back.forEach((b, i) => assert.deepEqual(b, Buffer.alloc(32, i)));
    } finally {
      await kms.close();
    }
  });

  describe("the store on the HSM", () => {
    let db: TestDatabase;
    let kms: Kms;
    before(async () => {
      db = await createTestDatabase();
      kms = await openKms(settings);
    });
    after(async () => {
      await kms?.close();
      await db?.drop();
    });

    it("seals, resolves, rotates to a second HSM key without touching secret rows, retires the first", async () => {
      const acme = await seedOrganization(db.pool, "acme");
      const app = await seedRepository(db.pool, acme, "acme/app");
      await setSecret(db.pool, kms, organizationScope(acme), { name: "ORG", value: "org-value", actor: "t" });
      await setSecret(db.pool, kms, repositoryScope(acme, app), {
        name: "REPO",
        value: "repo-value",
        actor: "t",
      });
      const rows = JSON.stringify((await db.pool.query("SELECT * FROM secrets ORDER BY id")).rows);
      const { rows: keys } = await db.pool.query("SELECT kms_key_id FROM organization_keys");
      assert.deepEqual(keys, [{ kms_key_id: "pkcs11:airlock-kms:1" }]);

      // A second KMS instance in the process (by slot id) shares the module and the login.
      const bySlot = await openKms({ ...settings, tokenLabel: undefined, slot });
      const report = await rotateKms(db.pool, bySlot);
      assert.equal(report.currentKeyId, "pkcs11:airlock-kms:2");
      assert.equal(report.rewrapped, 1);
      assert.deepEqual(report.kept, ["pkcs11:airlock-kms:1"]);
      await bySlot.close();
      assert.equal(JSON.stringify((await db.pool.query("SELECT * FROM secrets ORDER BY id")).rows), rows);
      assert.deepEqual(await secretsForRun(db.pool, kms, { organizationId: acme, repositoryId: app }), {
        ORG: "org-value",
        REPO: "repo-value",
      });

      const retired = await rotateKms(db.pool, kms, { newKey: false, retire: true });
      assert.deepEqual(retired.retired, ["pkcs11:airlock-kms:1"]);
      assert.deepEqual(await kms.keyIds(), ["pkcs11:airlock-kms:2"]);
      const listed = await run("pkcs11-tool", [
        "--module",
        MODULE,
        "--token-label",
        TOKEN,
        "--login",
        "--pin",
        PIN,
        "-O",
      ]);
      assert.equal(listed.stdout.match(/Secret Key Object/g)?.length, 1);
      assert.match(listed.stdout, /ID: +02/);
      assert.match(listed.stdout, /never extractable/);
      assert.equal(await readSecret(db.pool, kms, organizationScope(acme), "ORG"), "org-value");
    });
  });

  it("the service runs on the HSM; `airlock secrets rotate` rotates it while it serves", async () => {
    const t = await startTestService({ kms: settings });
    try {
      const r = await t.api("PUT", "/api/v1/organizations/default/secrets/HSM_SEALED", {
        value: "through-the-hsm",
      });
      assert.equal(r.status, 201, r.text);
      assert.ok(!r.text.includes("through-the-hsm"));
      let out = "";
      const program = new Command().name("airlock").exitOverride();
      registerSecretsAdmin(program, {
        stdout: { write: (c) => (out += String(c)) },
        env: {
          AIRLOCK_DATABASE_URL: t.db.url,
          AIRLOCK_DATA_DIR: t.service.config.dataDir,
          AIRLOCK_KMS_PROVIDER: "pkcs11",
          AIRLOCK_KMS_PKCS11_MODULE: MODULE,
          AIRLOCK_KMS_PKCS11_TOKEN_LABEL: TOKEN,
          AIRLOCK_KMS_PKCS11_PIN_FILE: pinFile,
        },
      });
      await program.parseAsync(["node", "airlock", "secrets", "rotate"]);
      assert.match(out, /^KMS key pkcs11:airlock-kms:3 is now current \(was pkcs11:airlock-kms:2\)\./);
      assert.match(out, /Re-wrapped 1 organization key/);
      const org = Number(
        (await t.db.pool.query("SELECT id FROM organizations WHERE name = 'default'")).rows[0].id,
      );
      assert.equal(
        await readSecret(t.db.pool, t.service.kms, organizationScope(org), "HSM_SEALED"),
        "through-the-hsm",
      );
    } finally {
      await t.stop();
    }
  });
});
