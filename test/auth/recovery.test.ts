// Recovery codes: shape, single use, forgiving input, salted storage, constant-time comparison.
import assert from "node:assert/strict";
import crypto from "node:crypto";
import { mock, test } from "node:test";
import { consumeRecoveryCode, newRecoveryCodes } from "../../src/auth/index.js";

void test("ten codes by default, xxxx-xxxx-xxxx-xxxx from an unambiguous alphabet, all distinct", () => {
  const { codes, hashes } = newRecoveryCodes();
  assert.equal(codes.length, 10);
  assert.equal(hashes.length, 10);
  for (const c of codes) assert.match(c, /^[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){3}$/);
  assert.equal(new Set(codes).size, 10);
  assert.equal(newRecoveryCodes(3).codes.length, 3);
  assert.throws(() => newRecoveryCodes(0), RangeError);
});

void test("stored hashes are salted: the same code never hashes the same way twice, and no code is in them", () => {
  const { codes, hashes } = newRecoveryCodes(20);
  for (const h of hashes) assert.match(h, /^s256\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
  assert.equal(new Set(hashes.map((h) => h.split("$")[1])).size, 20);
  const joined = hashes.join("\n");
  for (const c of codes) assert.ok(!joined.includes(c.replace(/-/g, "")));
});

void test("a code works once: consuming it returns the others, and again it is refused", () => {
  const { codes, hashes } = newRecoveryCodes(5);
  const left = consumeRecoveryCode(hashes, codes[2]!);
  assert.deepEqual(left, [hashes[0], hashes[1], hashes[3], hashes[4]]);
  assert.equal(consumeRecoveryCode(left, codes[2]!), undefined);
  // The others still work against the new list.
  assert.deepEqual(consumeRecoveryCode(left, codes[0]!), [hashes[1], hashes[3], hashes[4]]);
});

void test("case, dashes, spaces and look-alike letters do not matter; other changes do", () => {
  const { codes, hashes } = newRecoveryCodes(1);
  const c = codes[0]!;
  const raw = c.replace(/-/g, "");
  for (const typed of [
    c,
    c.toUpperCase(),
    raw,
    ` ${raw.slice(0, 8)} ${raw.slice(8)} `,
    c.replace(/-/g, " - "),
  ])
    assert.deepEqual(consumeRecoveryCode(hashes, typed), [], typed);
  // What people write for 0 and 1.
  const lookalike = raw.replace(/0/g, "O").replace(/1/g, "l");
  assert.deepEqual(consumeRecoveryCode(hashes, lookalike), []);
  // One character changed, one missing, one extra, garbage: refused, without throwing.
  const other = raw[0] === "a" ? "b" : "a";
  for (const typed of [
    other + raw.slice(1),
    raw.slice(1),
    raw + "a",
    "",
    "x".repeat(100_000),
    "ü".repeat(16),
  ])
    assert.equal(consumeRecoveryCode(hashes, typed), undefined, typed.slice(0, 20));
  assert.equal(consumeRecoveryCode(["not a hash", "s256$x$y"], c), undefined);
});

void test("stored digests are compared with crypto.timingSafeEqual, against every entry", (t) => {
  const { codes, hashes } = newRecoveryCodes(4);
  const spy = mock.method(crypto, "timingSafeEqual");
  t.after(() => spy.mock.restore());
  assert.ok(consumeRecoveryCode(hashes, codes[0]!));
  assert.equal(consumeRecoveryCode(hashes, "0000-0000-0000-0000"), undefined);
  // Four comparisons each time: a match does not stop the loop early.
  assert.equal(spy.mock.callCount(), 8);
});
