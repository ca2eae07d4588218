// TOTP: RFC 6238's published vectors, the 6-digit app flavour, the ±1 step window and replay
// refusal. Time is injected; nothing waits.
import assert from "node:assert/strict";
import { test } from "node:test";
import { isAirlockError } from "../../src/errors/index.js";
import { newTotpSecret, otpauthUri, totpCode, totpStep, verifyTotp } from "../../src/auth/index.js";

// RFC 6238 Appendix B: the SHA-1 seed is the ASCII string "12345678901234567890", in base32.
const RFC_SEED = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
const RFC_SHA1: [number, string][] = [
  [59, "94287082"],
  [1111111109, "07081804"],
  [1111111111, "14050471"],
  [1234567890, "89005924"],
  [2000000000, "69279037"],
  [20000000000, "65353130"],
];

void test("RFC 6238 Appendix B SHA-1 test vectors (8 digits)", async () => {
  assert.equal(Buffer.from("12345678901234567890").length, 20);
  for (const [seconds, expected] of RFC_SHA1)
    assert.equal(await totpCode(RFC_SEED, { now: seconds * 1000, digits: 8 }), expected, `T=${seconds}`);
});

void test("the 6-digit app flavour is the same HOTP value truncated to 6 digits, and verifies", async () => {
  for (const [seconds, eight] of RFC_SHA1) {
    const now = seconds * 1000;
    const six = await totpCode(RFC_SEED, { now });
    assert.equal(six, eight.slice(2));
    assert.deepEqual(await verifyTotp(RFC_SEED, six, { now }), { ok: true, step: totpStep(now) });
  }
  // The app shows "287 082"; people type it that way.
  assert.deepEqual(await verifyTotp(RFC_SEED, "287 082", { now: 59_000 }), { ok: true, step: 1 });
});

void test("one step of drift either way is accepted, two are not", async () => {
  const secret = newTotpSecret();
  const now = 1_700_000_015_000;
  const step = totpStep(now);
  const at = (s: number) => totpCode(secret, { now: s * 30_000 });
  assert.deepEqual(await verifyTotp(secret, await at(step - 1), { now }), { ok: true, step: step - 1 });
  assert.deepEqual(await verifyTotp(secret, await at(step + 1), { now }), { ok: true, step: step + 1 });
  assert.deepEqual(await verifyTotp(secret, await at(step - 2), { now }), { ok: false });
  assert.deepEqual(await verifyTotp(secret, await at(step + 2), { now }), { ok: false });
});

void test("a code whose step is at or before lastUsedStep is refused (replay)", async () => {
  const secret = newTotpSecret();
  const now = 1_700_000_000_000;
  const code = await totpCode(secret, { now });
  const first = await verifyTotp(secret, code, { now });
  assert.ok(first.ok);
  // The same code again, later in the same 30 s and in the next one.
  assert.deepEqual(await verifyTotp(secret, code, { now: now + 5_000, lastUsedStep: first.step }), {
    ok: false,
  });
  assert.deepEqual(await verifyTotp(secret, code, { now: now + 30_000, lastUsedStep: first.step }), {
    ok: false,
  });
  // An older code of the window after a newer one was used.
  const prev = await totpCode(secret, { now: now - 30_000 });
  assert.deepEqual(await verifyTotp(secret, prev, { now, lastUsedStep: first.step }), { ok: false });
  // The next step's code is fine.
  const next = await totpCode(secret, { now: now + 30_000 });
  assert.deepEqual(await verifyTotp(secret, next, { now: now + 30_000, lastUsedStep: first.step }), {
    ok: true,
    step: first.step + 1,
  });
  // A lastUsedStep past the whole window (clock set back) refuses without throwing.
  assert.deepEqual(await verifyTotp(secret, code, { now, lastUsedStep: first.step + 5 }), { ok: false });
});

void test("garbage codes are refused without throwing; a corrupt secret is INTERNAL", async () => {
  const secret = newTotpSecret();
  for (const code of ["", "12345", "1234567", "abcdef", "12345a", "１２３４５６", "9".repeat(10_000)])
    assert.deepEqual(await verifyTotp(secret, code), { ok: false }, code.slice(0, 10));
  await assert.rejects(verifyTotp("not base32!", "123456"), (e) => isAirlockError(e, "INTERNAL"));
  await assert.rejects(verifyTotp("JBSWY3DPEHPK3PXP", "123456"), (e) => isAirlockError(e, "INTERNAL"));
});

void test("new secrets are 160-bit base32 and the otpauth URI carries issuer, account and secret", () => {
  const a = newTotpSecret();
  assert.match(a, /^[A-Z2-7]{32}$/);
  assert.notEqual(newTotpSecret(), a);
  const uri = new URL(otpauthUri({ issuer: "Airlock", account: "alice@example.com", secret: a }));
  assert.equal(uri.protocol, "otpauth:");
  assert.equal(uri.host, "totp");
  assert.equal(decodeURIComponent(uri.pathname), "/Airlock:alice@example.com");
  assert.equal(uri.searchParams.get("secret"), a);
  assert.equal(uri.searchParams.get("issuer"), "Airlock");
});
