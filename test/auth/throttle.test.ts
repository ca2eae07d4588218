// Failure throttling with an injected clock (nothing sleeps): lockout and its growth, the window,
// unlock when the time has passed, per-address limits, unknown-user parity, bounded memory.
import assert from "node:assert/strict";
import { test } from "node:test";
import { isAirlockError } from "../../src/errors/index.js";
import {
  ACCOUNT_POLICY,
  LoginThrottle,
  MemoryFailureLimiter,
  addressKey,
  rateLimitedError,
  type LoginDecision,
} from "../../src/auth/index.js";

const MIN = 60_000;

function clock(start = 1_700_000_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

async function fail(lim: MemoryFailureLimiter, key: string, n: number) {
  let last;
  for (let i = 0; i < n; i++) last = await lim.recordFailure(key);
  return last;
}

void test("5 failures lock an account for 1 min, then 2, 4, ... capped at 1 hour; unlocked when the time passes", async () => {
  const c = clock();
  const lim = new MemoryFailureLimiter(ACCOUNT_POLICY, { now: c.now });
  assert.deepEqual(await fail(lim, "alice", 4), { allowed: true });
  assert.deepEqual(await lim.check("alice"), { allowed: true });
  assert.deepEqual(await lim.recordFailure("alice"), { allowed: false, retryAfterMs: MIN });

  const locks: number[] = [];
  for (let round = 0; round < 9; round++) {
    const d = await lim.check("alice");
    assert.equal(d.allowed, false);
    if (d.allowed) return;
    locks.push(d.retryAfterMs);
    c.advance(d.retryAfterMs - 1);
    assert.equal((await lim.check("alice")).allowed, false, "still locked 1 ms before the end");
    c.advance(1);
    assert.deepEqual(await lim.check("alice"), { allowed: true });
    await fail(lim, "alice", 5);
  }
  assert.deepEqual(
    locks.map((ms) => ms / MIN),
    [1, 2, 4, 8, 16, 32, 60, 60, 60],
  );
});

void test("failures older than the window do not count; failures while locked neither count nor extend", async () => {
  const c = clock();
  const lim = new MemoryFailureLimiter(ACCOUNT_POLICY, { now: c.now });
  await fail(lim, "bob", 4);
  c.advance(15 * MIN);
  assert.deepEqual(await lim.recordFailure("bob"), { allowed: true });
  assert.equal((await fail(lim, "bob", 4))?.allowed, false);
  c.advance(30_000);
  assert.deepEqual(await lim.recordFailure("bob"), { allowed: false, retryAfterMs: 30_000 });
  assert.deepEqual(await lim.check("bob"), { allowed: false, retryAfterMs: 30_000 });
});

void test("lockout growth is forgotten after a day without failures, or at once on reset", async () => {
  const c = clock();
  const lim = new MemoryFailureLimiter(ACCOUNT_POLICY, { now: c.now });
  await fail(lim, "carol", 5);
  c.advance(MIN);
  assert.deepEqual(await fail(lim, "carol", 5), { allowed: false, retryAfterMs: 2 * MIN });
  c.advance(2 * MIN + 24 * 60 * MIN);
  assert.deepEqual(await fail(lim, "carol", 5), { allowed: false, retryAfterMs: MIN });
  await lim.reset("carol");
  assert.deepEqual(await lim.check("carol"), { allowed: true });
  assert.deepEqual(await fail(lim, "carol", 4), { allowed: true });
});

void test("an unknown user name is locked exactly like an existing one", async () => {
  // The throttle is never told which names exist; the same sequence gives the same decisions.
  const run = async (account: string) => {
    const c = clock();
    const th = new LoginThrottle({ now: c.now });
    const seen: LoginDecision[] = [];
    for (let i = 0; i < 12; i++) {
      seen.push(await th.check({ account, address: "192.0.2.1" }));
      seen.push(await th.recordFailure({ account, address: "192.0.2.1" }));
      c.advance(10_000);
    }
    return seen;
  };
  const existing = await run("alice");
  const unknown = await run("no-such-user-4711");
  assert.deepEqual(unknown, existing);
  assert.ok(existing.some((d) => !d.allowed && d.locked === "account"));
});

void test("account names are matched case- and width-insensitively", async () => {
  const c = clock();
  const th = new LoginThrottle({ now: c.now });
  for (const account of ["Alice", "alice", " ALICE ", "ａｌｉｃｅ", "alice"])
    await th.recordFailure({ account, address: "192.0.2.1" });
  assert.equal((await th.check({ account: "alice", address: "198.51.100.9" })).allowed, false);
});

void test("one address failing on many accounts is locked at 20, other addresses are not", async () => {
  const c = clock();
  const th = new LoginThrottle({ now: c.now });
  for (let i = 0; i < 19; i++)
    assert.deepEqual(await th.recordFailure({ account: `user${i}`, address: "203.0.113.7" }), {
      allowed: true,
    });
  assert.deepEqual(await th.recordFailure({ account: "user19", address: "203.0.113.7" }), {
    allowed: false,
    retryAfterMs: MIN,
    locked: "address",
  });
  assert.deepEqual(await th.check({ account: "fresh", address: "203.0.113.7" }), {
    allowed: false,
    retryAfterMs: MIN,
    locked: "address",
  });
  assert.deepEqual(await th.check({ account: "user3", address: "203.0.113.8" }), { allowed: true });
  // A success does not wipe the address's count (an attacker's own account cannot launder it).
  await th.recordSuccess({ account: "user3", address: "203.0.113.7" });
  assert.equal((await th.check({ account: "user3", address: "203.0.113.7" })).allowed, false);
  c.advance(MIN);
  assert.deepEqual(await th.check({ account: "user3", address: "203.0.113.7" }), { allowed: true });
});

void test("IPv6 addresses count per /64; IPv4-mapped IPv6 counts as the IPv4", () => {
  assert.equal(addressKey("2001:db8:1:2::1"), addressKey("2001:DB8:1:2:ffff:ffff:ffff:ffff"));
  assert.notEqual(addressKey("2001:db8:1:2::1"), addressKey("2001:db8:1:3::1"));
  assert.equal(addressKey("::ffff:192.0.2.1"), "192.0.2.1");
  assert.equal(addressKey("192.0.2.1"), "192.0.2.1");
  assert.notEqual(addressKey("192.0.2.1"), addressKey("192.0.2.2"));
  assert.match(addressKey("not an address"), /^\?[0-9a-f]{32}$/);
  assert.ok(addressKey("x".repeat(1_000_000)).length < 40);
});

void test("a successful login clears the account's failures", async () => {
  const c = clock();
  const th = new LoginThrottle({ now: c.now });
  const a = { account: "dave", address: "192.0.2.5" };
  for (let i = 0; i < 4; i++) await th.recordFailure(a);
  await th.recordSuccess(a);
  for (let i = 0; i < 4; i++) assert.deepEqual(await th.recordFailure(a), { allowed: true });
});

void test("memory is bounded: a flood of distinct addresses stays under maxKeys and does not evict a lock", async () => {
  const c = clock();
  const lim = new MemoryFailureLimiter({ ...ACCOUNT_POLICY, maxFailures: 2 }, { now: c.now, maxKeys: 500 });
  await fail(lim, "victim", 2);
  assert.equal((await lim.check("victim")).allowed, false);
  for (let i = 0; i < 50_000; i++) {
    await lim.recordFailure(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    assert.ok(lim.size <= 500);
  }
  assert.equal(lim.size, 500);
  assert.equal((await lim.check("victim")).allowed, false, "the lock survived the flood");
  // Entries with nothing left to remember are dropped when next seen.
  c.advance(24 * 60 * MIN + 2 * MIN);
  assert.deepEqual(await lim.check("victim"), { allowed: true });
  assert.equal(lim.size, 499);
});

void test("rateLimitedError: RATE_LIMITED, retryable, seconds rounded up, no account or address in it", () => {
  const e = rateLimitedError(61_500);
  assert.ok(isAirlockError(e, "RATE_LIMITED"));
  assert.equal(e.retryable, true);
  assert.deepEqual(e.details, { retryAfterMs: 61_500 });
  assert.match(e.message, /\b62 s\b/);
});
