// Password hashing: argon2id at OWASP's parameters, imported bcrypt hashes, rehash flags, the
// dummy verification for unknown users, input bounds and the new-password policy.
import assert from "node:assert/strict";
import { mock, test } from "node:test";
import argon2 from "@node-rs/argon2";
import bcrypt from "bcryptjs";
import { isAirlockError } from "../../src/errors/index.js";
import {
  ARGON2_MEMORY_KIB,
  ARGON2_PARALLELISM,
  ARGON2_TIME_COST,
  checkNewPassword,
  dummyVerify,
  hashPassword,
  MAX_PASSWORD_CHARS,
  verifyPassword,
} from "../../src/auth/index.js";
import { DUMMY_HASH } from "../../src/auth/password.js";

const PW = "battery staple horse correct";

void test("OWASP's argon2id parameters are the ones written into the stored string", async () => {
  assert.deepEqual([ARGON2_MEMORY_KIB, ARGON2_TIME_COST, ARGON2_PARALLELISM], [19456, 2, 1]);
  const h = await hashPassword(PW);
  assert.match(h, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
  const p = argon2.parseOptions(h);
  assert.equal(p.saltLen, 16);
  assert.equal(p.outputLen, 32);
  // A fresh salt every time.
  assert.notEqual(await hashPassword(PW), h);
});

void test("the right password verifies, a wrong one does not, neither asks for a rehash", async () => {
  const h = await hashPassword(PW);
  assert.deepEqual(await verifyPassword(h, PW), { ok: true, needsRehash: false });
  assert.deepEqual(await verifyPassword(h, PW + "!"), { ok: false, needsRehash: false });
  assert.deepEqual(await verifyPassword(h, ""), { ok: false, needsRehash: false });
});

void test("passwords are NFKC-normalised: composed and decomposed accents are the same password", async () => {
  const composed = "caf\u00e9 au lait noir";
  const decomposed = "cafe\u0301 au lait noir";
  assert.notEqual(composed, decomposed);
  const h = await hashPassword(composed);
  assert.equal((await verifyPassword(h, decomposed)).ok, true);
});

void test("bcrypt hashes ($2a$, $2b$, $2y$) are accepted and flagged for rehash; wrong ones refused", async () => {
  const b = bcrypt.hashSync(PW, 4);
  assert.match(b, /^\$2b\$04\$/);
  for (const variant of ["$2a$", "$2b$", "$2y$"]) {
    const stored = variant + b.slice(4);
    assert.deepEqual(await verifyPassword(stored, PW), { ok: true, needsRehash: true }, variant);
    assert.deepEqual(await verifyPassword(stored, "not the password"), { ok: false, needsRehash: false });
  }
});

void test("argon2 hashes with weaker parameters or another variant verify and ask for a rehash", async () => {
  const weak = [
    await argon2.hash(PW, { memoryCost: 4096, timeCost: 3, parallelism: 1 }),
    await argon2.hash(PW, { memoryCost: 19456, timeCost: 1, parallelism: 1 }),
    await argon2.hash(PW, {
      memoryCost: 19456,
      timeCost: 2,
      parallelism: 1,
      algorithm: 1 as argon2.Algorithm,
    }),
  ];
  assert.match(weak[2]!, /^\$argon2i\$/);
  for (const h of weak) {
    assert.deepEqual(await verifyPassword(h, PW), { ok: true, needsRehash: true }, h);
    assert.deepEqual(await verifyPassword(h, "wrong password!"), { ok: false, needsRehash: false });
  }
  // Stronger than ours is fine as it is.
  const strong = await argon2.hash(PW, { memoryCost: 32768, timeCost: 3, parallelism: 1 });
  assert.deepEqual(await verifyPassword(strong, PW), { ok: true, needsRehash: false });
});

void test("an unknown user costs one real argon2id verification at the current parameters", async (t) => {
  assert.deepEqual(argon2.parseOptions(DUMMY_HASH), argon2.parseOptions(await hashPassword("x")));
  const spy = mock.method(argon2, "verify");
  t.after(() => spy.mock.restore());

  const known = await hashPassword(PW);
  assert.deepEqual(await verifyPassword(known, "guess number one"), { ok: false, needsRehash: false });
  assert.deepEqual(await verifyPassword(undefined, "guess number one"), { ok: false, needsRehash: false });
  assert.deepEqual(await dummyVerify("guess number one"), { ok: false, needsRehash: false });

  // Three calls, each into the real argon2 verify (the spy calls through), each against a hash
  // with identical parameters: the same memory and passes whether the user exists or not.
  const calls = spy.mock.calls;
  assert.equal(calls.length, 3);
  const params = calls.map((c) => argon2.parseOptions(c.arguments[0]));
  assert.deepEqual(params[1], params[0]);
  assert.deepEqual(params[2], params[0]);
  assert.equal(calls[1]!.arguments[0], DUMMY_HASH);
  assert.equal(await calls[1]!.result, false);
});

void test("over-long passwords are refused before any hashing", async (t) => {
  const huge = "a".repeat(10 * 1024 * 1024);
  const justTooLong = "\u{1F600}".repeat(MAX_PASSWORD_CHARS + 1);
  const longest = "\u{1F600}".repeat(MAX_PASSWORD_CHARS);
  for (const pw of [huge, justTooLong, ""])
    await assert.rejects(hashPassword(pw), (e) => isAirlockError(e, "PASSWORD_INVALID"));
  assert.match(await hashPassword(longest), /^\$argon2id\$/);

  const h = await hashPassword(PW);
  const spy = mock.method(argon2, "verify");
  t.after(() => spy.mock.restore());
  assert.deepEqual(await verifyPassword(h, huge), { ok: false, needsRehash: false });
  assert.deepEqual(await verifyPassword(undefined, huge), { ok: false, needsRehash: false });
  assert.equal(spy.mock.callCount(), 0);
});

void test("a malformed or absurdly expensive stored hash is an INTERNAL error, not a wrong password", async () => {
  const costly =
    "$argon2id$v=19$m=4194304,t=2,p=1$q/LgdBK48HAh7GihdqVhvg$zGO1QOiL+GZtRmMAyjOfKc5bWRaQIaMG2Vh8YqzvJtk";
  const bcrypt31 = "$2b$31$" + bcrypt.hashSync(PW, 4).slice(7);
  for (const stored of ["", "plaintext", "$argon2id$garbage", costly, bcrypt31, "$2b$10$short"])
    await assert.rejects(verifyPassword(stored, PW), (e) => {
      assert.ok(isAirlockError(e, "INTERNAL"), stored);
      assert.ok(stored === "" || !e.message.includes(stored), "the hash stays out of the message");
      return true;
    });
});

void test("checkNewPassword: length, user name and common passwords, one reason each", () => {
  const reason = (pw: string, userName?: string) => {
    const r = checkNewPassword(pw, { userName });
    return r.ok ? "ok" : r.reason;
  };
  assert.equal(reason("short pw"), "too_short");
  assert.equal(reason("elevenchars"), "too_short");
  assert.equal(reason("twelve chars"), "ok");
  assert.equal(reason("x".repeat(MAX_PASSWORD_CHARS + 1)), "too_long");
  assert.equal(reason("a".repeat(5_000_000)), "too_long");
  assert.equal(reason("alice.example", "Alice.Example"), "same_as_user_name");
  assert.equal(reason("alice.example!", "alice.example"), "ok");
  assert.equal(reason("Password1234"), "too_common");
  assert.equal(reason("123456789012"), "too_common");
  assert.equal(reason("zzzzzzzzzzzzzzzz"), "too_common");
  // No composition rules: all lower-case letters and spaces is fine.
  assert.equal(reason("purple monkey dishwasher"), "ok");
  const r = checkNewPassword("short");
  assert.ok(!r.ok && !r.message.includes("\n") && r.message.length > 0);
});
