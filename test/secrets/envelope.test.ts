// AES-256-GCM envelope and the local KMS: round trips, every tampered byte (ciphertext, nonce,
// tag) and every changed AAD field refused with SECRET_UNREADABLE; the key file is made at the
// first start with mode 0600, keeps old keys after rotation, is refused when others may read it,
// and is re-read by another process's KMS after a rotation.
import assert from "node:assert/strict";
import { chmod, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isAirlockError } from "../../src/errors/index.js";
import { aad, openKms, type Binding } from "../../src/secrets/index.js";
import { newDataKey, open, seal } from "../../src/secrets/envelope.js";
import { localKms, tempDir, type TempDir } from "./helpers.js";

const base: Binding = {
  purpose: "secret-value",
  organizationId: 1,
  repositoryId: 2,
  environment: "production",
  id: 3,
  name: "TOKEN",
  version: 4,
  organizationKeyId: 5,
};

const refused = (fn: () => unknown, code = "SECRET_UNREADABLE"): void => {
  assert.throws(fn, (err: unknown) => isAirlockError(err) && err.code === code);
};

let tmp: TempDir;
before(async () => {
  tmp = await tempDir();
});
after(async () => {
  await tmp.remove();
});

describe("envelope", () => {
  const key = newDataKey();
  const plain = Buffer.from("s3cr3t value");

  it("seals and opens; two seals of one value differ (random nonce)", () => {
    const a = seal(key, plain, aad(base));
    const b = seal(key, plain, aad(base));
    assert.equal(a.nonce.length, 12);
    assert.notDeepEqual(a.nonce, b.nonce);
    assert.notDeepEqual(a.ciphertext, b.ciphertext);
    assert.ok(!a.ciphertext.includes(plain));
    assert.deepEqual(open(key, a, aad(base), "x"), plain);
  });

  it("refuses a tampered ciphertext, nonce or tag", () => {
    const s = seal(key, plain, aad(base));
    for (const [part, i] of [
      ["ciphertext", 0],
      ["tag", s.ciphertext.length - 1],
    ] as const) {
      const c = Buffer.from(s.ciphertext);
      c[i]! ^= 1;
      refused(() => open(key, { nonce: s.nonce, ciphertext: c }, aad(base), part));
    }
    const n = Buffer.from(s.nonce);
    n[5]! ^= 0x80;
    refused(() => open(key, { nonce: n, ciphertext: s.ciphertext }, aad(base), "nonce"));
    refused(() =>
      open(key, { nonce: s.nonce, ciphertext: s.ciphertext.subarray(0, 10) }, aad(base), "short"),
    );
    refused(() => open(newDataKey(), s, aad(base), "other key"));
  });

  it("refuses every changed AAD field, and the error names what, never the value", () => {
    const s = seal(key, plain, aad(base));
    const changes: Partial<Binding>[] = [
      { purpose: "secret-dek" },
      { organizationId: 9 },
      { repositoryId: null },
      { environment: "Production" },
      { environment: null },
      { id: 33 },
      { name: "TOKEN2" },
      { version: 5 },
      { organizationKeyId: 6 },
    ];
    for (const change of changes)
      assert.throws(
        () => open(key, s, aad({ ...base, ...change }), "secret TOKEN"),
        (err: unknown) =>
          isAirlockError(err, "SECRET_UNREADABLE") &&
          err.message.startsWith("secret TOKEN does not decrypt") &&
          !err.message.includes("s3cr3t"),
        JSON.stringify(change),
      );
  });

  it("encodes the AAD canonically: same fields, same bytes; null is not 0 or ''", () => {
    assert.deepEqual(aad({ ...base }), aad(JSON.parse(JSON.stringify(base)) as Binding));
    assert.notDeepEqual(aad({ ...base, repositoryId: null }), aad({ ...base, repositoryId: 0 }));
    assert.notDeepEqual(aad({ ...base, environment: null }), aad({ ...base, environment: "" }));
  });
});

describe("local KMS", () => {
  it("makes a 0600 key file at the first start and wraps under it; a wrong context is refused", async () => {
    const kms = await localKms(tmp.dir, "a/kms.key");
    const file = join(tmp.dir, "a/kms.key");
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await stat(join(tmp.dir, "a"))).mode & 0o777, 0o700);
    const dek = newDataKey();
    const w = await kms.wrap(dek, Buffer.from("org 1"));
    assert.equal(w.keyId, await kms.currentKeyId());
    assert.match(w.keyId, /^local-1-[0-9a-f]{8}$/);
    assert.equal(w.wrapped.length, 12 + 32 + 16);
    assert.ok(!(await readFile(file)).includes(dek));
    assert.deepEqual(await kms.unwrap(w, Buffer.from("org 1")), dek);
    await assert.rejects(kms.unwrap(w, Buffer.from("org 2")), (e) => isAirlockError(e, "SECRET_UNREADABLE"));
    await kms.close();
    // A second start reads the same key.
    const again = await localKms(tmp.dir, "a/kms.key");
    assert.deepEqual(await again.unwrap(w, Buffer.from("org 1")), dek);
    await again.close();
  });

  it("rotates: a new current key, the old one still unwraps until retired; other processes see it", async () => {
    const kms = await localKms(tmp.dir, "b.key");
    const other = await localKms(tmp.dir, "b.key"); // as the running server, while the CLI rotates
    const dek = newDataKey();
    const old = await kms.wrap(dek, Buffer.from("c"));
    const made = await kms.createKey();
    assert.match(made, /^local-2-/);
    assert.deepEqual(await kms.keyIds(), [old.keyId, made]);
    const fresh = await other.wrap(dek, Buffer.from("c"));
    assert.equal(fresh.keyId, made, "the other process wraps under the new key");
    assert.deepEqual(await other.unwrap(fresh, Buffer.from("c")), dek);
    assert.deepEqual(await kms.unwrap(old, Buffer.from("c")), dek);
    await assert.rejects(kms.destroyKey(made), (e) => isAirlockError(e, "USAGE"));
    await kms.destroyKey(old.keyId);
    await assert.rejects(other.unwrap(old, Buffer.from("c")), (e) => isAirlockError(e, "KMS_KEY_MISSING"));
    assert.equal((await stat(join(tmp.dir, "b.key"))).mode & 0o777, 0o600);
    await kms.close();
    await other.close();
  });

  it("refuses a key file others may read, a file that is not a key file, and a missing one when not to create", async () => {
    const file = join(tmp.dir, "c.key");
    await (await localKms(tmp.dir, "c.key")).close();
    await chmod(file, 0o644);
    await assert.rejects(
      localKms(tmp.dir, "c.key"),
      (e) => isAirlockError(e, "KMS_FAILED") && /chmod 600/.test(e.message),
    );
    await writeFile(file, "local-1-00000000 AAAA\n", { mode: 0o600 });
    await chmod(file, 0o600);
    await assert.rejects(
      localKms(tmp.dir, "c.key"),
      (e) => isAirlockError(e, "KMS_FAILED") && /line 1/.test(e.message),
    );
    await assert.rejects(
      openKms({ provider: "local", keyFile: join(tmp.dir, "none.key") }, { create: false }),
      (e) => isAirlockError(e, "KMS_KEY_MISSING"),
    );
  });
});
