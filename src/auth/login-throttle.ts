// Login throttling: failures counted per account name and per client address, each with its own
// limiter. The account key is the name as typed (normalised), whether or not such a user exists:
// this module never learns which names exist, so a lock on "nobody" behaves exactly like a lock on
// "alice" and the refusal tells an attacker nothing.
//
// Use: `check` BEFORE verifying the password (and refuse while locked, without verifying);
// `recordFailure` after a wrong password, unknown user or wrong second factor; `recordSuccess`
// after a complete login.
import { isIP } from "node:net";
import { AirlockError, ErrorCode } from "../errors/index.js";
import { sha256 } from "./constant-time.js";
import { MemoryFailureLimiter, type Decision, type FailureLimiter, type FailurePolicy } from "./throttle.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** 5 failures for one account within 15 minutes: locked 1 min, then 2, 4, ... up to 1 hour. */
export const ACCOUNT_POLICY: FailurePolicy = {
  maxFailures: 5,
  windowMs: 15 * MINUTE,
  lockBaseMs: MINUTE,
  lockMaxMs: HOUR,
  forgetMs: 24 * HOUR,
};

/** One client address tries many accounts: 20 failures within 15 minutes, same lock growth. */
export const ADDRESS_POLICY: FailurePolicy = { ...ACCOUNT_POLICY, maxFailures: 20 };

/**
 * For failures that are not logins: bad API tokens or node credentials, per client address (a
 * `MemoryFailureLimiter(CLIENT_POLICY)` keyed by `addressKey`). Higher, since one machine may run
 * many clients holding one revoked token.
 */
export const CLIENT_POLICY: FailurePolicy = { ...ACCOUNT_POLICY, maxFailures: 50 };

export interface LoginAttempt {
  /** The user name as submitted. */
  account: string;
  /** The client's address (the request's IP after trusted-proxy handling). */
  address: string;
}

export type LoginDecision =
  { allowed: true } | { allowed: false; retryAfterMs: number; locked: "account" | "address" };

export class LoginThrottle {
  readonly accounts: FailureLimiter;
  readonly addresses: FailureLimiter;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(opts: { accounts?: FailureLimiter; addresses?: FailureLimiter; now?: () => number } = {}) {
    const clock = opts.now === undefined ? {} : { now: opts.now };
    this.accounts = opts.accounts ?? new MemoryFailureLimiter(ACCOUNT_POLICY, clock);
    this.addresses = opts.addresses ?? new MemoryFailureLimiter(ADDRESS_POLICY, clock);
  }

  /** Before verifying anything. Changes nothing. */
  async check(a: LoginAttempt): Promise<LoginDecision> {
    const [acc, addr] = await Promise.all([
      this.accounts.check(accountKey(a.account)),
      this.addresses.check(addressKey(a.address)),
    ]);
    return combine(acc, addr);
  }

  async recordFailure(a: LoginAttempt): Promise<LoginDecision> {
    const [acc, addr] = await Promise.all([
      this.accounts.recordFailure(accountKey(a.account)),
      this.addresses.recordFailure(addressKey(a.address)),
    ]);
    return combine(acc, addr);
  }

  /**
   * Before verifying: refused while locked; otherwise the attempt is counted as a failure at once.
   * Calls are serialised (one check-and-count at a time), so requests sent in parallel cannot all
   * pass the check before the first failure is counted. A success takes its count back with
   * `forgive` (and, once the login is complete, `recordSuccess`).
   */
  begin(a: LoginAttempt): Promise<LoginDecision> {
    const run = this.#queue.then(async (): Promise<LoginDecision> => {
      const d = await this.check(a);
      if (!d.allowed) return d;
      await this.recordFailure(a);
      return { allowed: true };
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Takes back the failure `begin` counted for an attempt that succeeded. */
  async forgive(a: LoginAttempt): Promise<void> {
    await Promise.all([
      this.accounts.forgive(accountKey(a.account)),
      this.addresses.forgive(addressKey(a.address)),
    ]);
  }

  /**
   * Clears the account's failures. The address keeps its count: otherwise an attacker could log
   * into an account of their own between guesses to wipe the per-address limit.
   */
  async recordSuccess(a: LoginAttempt): Promise<void> {
    await this.accounts.reset(accountKey(a.account));
  }
}

/** The error for an HTTP layer to answer with (429): the same words for an account or an address. */
export function rateLimitedError(retryAfterMs: number): AirlockError {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new AirlockError(ErrorCode.RATE_LIMITED, `too many failed attempts: try again in ${seconds} s`, {
    retryable: true,
    details: { retryAfterMs },
  });
}

/** Case- and width-insensitive, trimmed; long names are hashed so a key stays small. */
export function accountKey(name: string): string {
  const bounded = name.length > 1024 ? name.slice(0, 1024) : name;
  const k = bounded.normalize("NFKC").trim().toLowerCase();
  return k.length <= 128 ? k : "#" + sha256(k).toString("hex");
}

/**
 * IPv4 as it is; IPv6 by its /64 prefix (one subscriber usually holds a whole /64, so counting
 * single v6 addresses would give each attacker 2^64 tries); IPv4-mapped IPv6 as the IPv4.
 */
export function addressKey(address: string): string {
  const a = address.length > 100 ? "" : address.replace(/%.*$/, "");
  if (isIP(a) === 4) return a;
  if (isIP(a) !== 6) return "?" + sha256(address.slice(0, 1024)).toString("hex").slice(0, 32);
  const groups = expandV6(a);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff)
    return [groups[6]! >> 8, groups[6]! & 255, groups[7]! >> 8, groups[7]! & 255].join(".");
  return groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(":")
    .concat("::/64");
}

// Eight 16-bit groups of a valid IPv6 address (checked by isIP), with any embedded IPv4 tail.
function expandV6(a: string): number[] {
  let s = a.toLowerCase();
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (v4) {
    const [b0, b1, b2, b3] = v4.slice(1).map(Number) as [number, number, number, number];
    s = s.slice(0, v4.index) + ((b0 << 8) | b1).toString(16) + ":" + ((b2 << 8) | b3).toString(16);
  }
  const [head, tail] = s.split("::") as [string, string | undefined];
  const h = head === "" ? [] : head.split(":");
  const t = tail === undefined || tail === "" ? [] : tail.split(":");
  const fill = tail === undefined ? [] : Array<string>(8 - h.length - t.length).fill("0");
  return [...h, ...fill, ...t].map((g) => parseInt(g, 16));
}

function combine(acc: Decision, addr: Decision): LoginDecision {
  if (!acc.allowed && (addr.allowed || acc.retryAfterMs >= addr.retryAfterMs))
    return { allowed: false, retryAfterMs: acc.retryAfterMs, locked: "account" };
  if (!addr.allowed) return { allowed: false, retryAfterMs: addr.retryAfterMs, locked: "address" };
  return { allowed: true };
}
