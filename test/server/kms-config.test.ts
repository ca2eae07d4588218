// The `kms` section of the server's configuration: the local provider by default with its key
// file in the data folder, AIRLOCK_KMS_* over the file, the PKCS#11 settings with the PIN from a
// 0600 file or the environment (never inline), and one line per bad setting.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isAirlockError } from "../../src/errors/index.js";
import { loadServerConfig } from "../../src/server/index.js";

let dir: string;
let pinFile: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "airlock-kms-config-"));
  pinFile = join(dir, "pin");
  await writeFile(pinFile, " 1234-5678 \n", { mode: 0o600 });
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fileWith(kms: unknown): Promise<string> {
  const file = join(dir, `c${Math.random().toString(36).slice(2)}.json`);
  await writeFile(file, JSON.stringify({ kms }));
  return file;
}

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(isAirlockError(err, "CONFIG_INVALID"), String(err));
    return err.details as string[];
  }
  assert.fail("expected CONFIG_INVALID");
}

describe("kms config", () => {
  it("defaults to the local provider with kms.key in the data folder; the file and environment change it", async () => {
    assert.deepEqual(loadServerConfig({ env: { AIRLOCK_DATA_DIR: "/srv/airlock" } }).kms, {
      provider: "local",
      keyFile: "/srv/airlock/kms.key",
    });
    const file = await fileWith({ keyFile: "/etc/airlock/kms.key" });
    assert.equal(loadServerConfig({ file, env: {} }).kms.provider, "local");
    assert.deepEqual(loadServerConfig({ file, env: { AIRLOCK_KMS_KEY_FILE: "/k" } }).kms, {
      provider: "local",
      keyFile: "/k",
    });
  });

  it("compiles pkcs11 settings from the file and the environment, the PIN trimmed from its file", async () => {
    const file = await fileWith({
      provider: "pkcs11",
      pkcs11: { module: "/m.so", tokenLabel: "t", pinFile },
    });
    const k = loadServerConfig({ file, env: {} }).kms;
    assert.equal(k.provider, "pkcs11");
    if (k.provider !== "pkcs11") return;
    assert.equal(k.pin.reveal(), "1234-5678");
    assert.equal(k.keyLabel, "airlock-kms");
    assert.equal(k.tokenLabel, "t");
    assert.ok(!JSON.stringify(k).includes("1234"));
    const fromEnv = loadServerConfig({
      env: {
        AIRLOCK_KMS_PROVIDER: "pkcs11",
        AIRLOCK_KMS_PKCS11_MODULE: "/m.so",
        AIRLOCK_KMS_PKCS11_SLOT: "7",
        AIRLOCK_KMS_PKCS11_PIN: "env-pin",
        AIRLOCK_KMS_PKCS11_KEY_LABEL: "k",
      },
    }).kms;
    assert.ok(fromEnv.provider === "pkcs11" && fromEnv.slot === 7 && fromEnv.pin.reveal() === "env-pin");
    assert.equal(fromEnv.provider === "pkcs11" && fromEnv.keyLabel, "k");
  });

  it("one line per bad setting, never the PIN", async () => {
    const inline = await fileWith({
      provider: "pkcs11",
      pkcs11: { module: "/m.so", tokenLabel: "t", pin: "9999" },
    });
    const p1 = problems(() => loadServerConfig({ file: inline, env: {} }));
    assert.equal(p1.length, 1);
    assert.match(p1[0]!, /kms\.pkcs11\.pin: the PIN is not written in the configuration/);
    assert.ok(!p1[0]!.includes("9999"));

    const empty = await fileWith({ provider: "pkcs11" });
    assert.deepEqual(
      problems(() => loadServerConfig({ file: empty, env: {} })).map((l) => l.replace(/^.*?: kms/, "kms")),
      [
        "kms.pkcs11.module: required with provider pkcs11 (the PKCS#11 module's path)",
        "kms.pkcs11: name the token by slot or by tokenLabel (one of them)",
        "kms.pkcs11.pinFile: required with provider pkcs11 (or AIRLOCK_KMS_PKCS11_PIN)",
      ],
    );
    const both = await fileWith({
      provider: "pkcs11",
      pkcs11: { module: "/m", slot: 1, tokenLabel: "t", pinFile },
    });
    assert.match(problems(() => loadServerConfig({ file: both, env: {} }))[0]!, /by slot or by tokenLabel/);
    const open = join(dir, "open-pin");
    await writeFile(open, "1", { mode: 0o644 });
    const openFile = await fileWith({ provider: "pkcs11", pkcs11: { module: "/m", slot: 1, pinFile: open } });
    assert.match(
      problems(() => loadServerConfig({ file: openFile, env: {} }))[0]!,
      /open to other users: chmod 600/,
    );
    const missing = await fileWith({
      provider: "pkcs11",
      pkcs11: { module: "/m", slot: 1, pinFile: join(dir, "none") },
    });
    assert.match(
      problems(() => loadServerConfig({ file: missing, env: {} }))[0]!,
      /cannot be read \(ENOENT\)/,
    );
    const twice = await fileWith({ provider: "pkcs11", pkcs11: { module: "/m", slot: 1, pinFile } });
    assert.match(
      problems(() => loadServerConfig({ file: twice, env: { AIRLOCK_KMS_PKCS11_PIN: "x" } }))[0]!,
      /give the PIN one way/,
    );
    assert.deepEqual(
      problems(() => loadServerConfig({ env: { AIRLOCK_KMS_PROVIDER: "vault" } })),
      ["AIRLOCK_KMS_PROVIDER: expected local or pkcs11, got 'vault'"],
    );
    assert.deepEqual(
      problems(() => loadServerConfig({ env: { AIRLOCK_KMS_PKCS11_SLOT: "x" } })),
      ["AIRLOCK_KMS_PKCS11_SLOT: expected a slot id (a whole number), got 'x'"],
    );
    const unknown = await fileWith({ provider: "hsm", extra: 1 });
    assert.equal(problems(() => loadServerConfig({ file: unknown, env: {} })).length, 2);
  });
});
