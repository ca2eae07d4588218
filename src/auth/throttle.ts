// Failure counting with temporary lockout, per key (an account name, a client address, ...).
// `maxFailures` failures within `windowMs` lock the key for `lockBaseMs`; each further lockout
// of the same key doubles the time, up to `lockMaxMs`. A key's lockout history is forgotten after
// `forgetMs` without failures, or at once by `reset` (a successful login).
//
// The interface is async so that a shared store can implement it: the in-memory limiter below
// counts per process, so a deployment of several orchestrator instances behind one address needs
// a shared implementation (a PostgreSQL table keyed by the key, updated in one statement) or an
// attacker gets maxFailures per instance.
export interface FailurePolicy {
  maxFailures: number;
  windowMs: number;
  lockBaseMs: number;
  lockMaxMs: number;
  forgetMs: number;
}

export type Decision = { allowed: true } | { allowed: false; retryAfterMs: number };

export interface FailureLimiter {
  /** Before the attempt: refused while the key is locked. Changes nothing. */
  check(key: string): Promise<Decision>;
  /**
   * After a failed attempt: counts it and says whether the key is now locked. A failure while
   * locked is not counted (the caller should not have tried) and does not extend the lock.
   */
  recordFailure(key: string): Promise<Decision>;
  /** Forgets the key's failures and lockout history. */
  reset(key: string): Promise<void>;
  /**
   * Takes back the key's latest failure in the window (an attempt counted as a failure before it
   * was checked turned out a success). Does not lift a lock.
   */
  forgive(key: string): Promise<void>;
}

interface Entry {
  /** Times of the failures in the current window; never more than maxFailures. */
  failures: number[];
  lockedUntil: number;
  /** Lockouts so far: the next lasts lockBaseMs * 2^lockouts. */
  lockouts: number;
  /** The last failure or the end of the last lock, whichever is later. */
  lastSeen: number;
}

export interface MemoryLimiterOptions {
  /** The clock, in ms. Tests pass their own; nothing here reads the time otherwise. */
  now?: () => number;
  /** At most this many keys are kept (default 100 000, some tens of MB at worst). */
  maxKeys?: number;
}

// How many of the least recently used entries are looked at to find one worth evicting.
const EVICTION_SCAN = 64;

/**
 * Per-process failure limiter. Memory is bounded: when `maxKeys` keys are held, adding one evicts
 * an entry that has nothing left to remember, else the least recently used one that is not locked,
 * else the least recently used one. A flood of distinct keys therefore displaces other one-off
 * failures before it displaces a lock; use one limiter per kind of key (accounts, addresses) so a
 * flood of addresses never competes with account lockouts.
 */
export class MemoryFailureLimiter implements FailureLimiter {
  readonly #policy: FailurePolicy;
  readonly #now: () => number;
  readonly #maxKeys: number;
  // Map order is recency order: an entry is re-inserted whenever a failure is recorded.
  readonly #entries = new Map<string, Entry>();

  constructor(policy: FailurePolicy, opts: MemoryLimiterOptions = {}) {
    this.#policy = policy;
    this.#now = opts.now ?? Date.now;
    this.#maxKeys = Math.max(1, opts.maxKeys ?? 100_000);
  }

  /** Keys held now (for tests and metrics). */
  get size(): number {
    return this.#entries.size;
  }

  check(key: string): Promise<Decision> {
    const t = this.#now();
    return Promise.resolve(decide(this.#live(key, t), t));
  }

  recordFailure(key: string): Promise<Decision> {
    const t = this.#now();
    const p = this.#policy;
    let e = this.#live(key, t);
    if (e && t < e.lockedUntil) return Promise.resolve(decide(e, t));
    if (e) this.#entries.delete(key);
    else {
      this.#makeRoom(t);
      e = { failures: [], lockedUntil: 0, lockouts: 0, lastSeen: t };
    }
    e.failures = e.failures.filter((f) => t - f < p.windowMs);
    e.failures.push(t);
    e.lastSeen = t;
    if (e.failures.length >= p.maxFailures) {
      e.lockedUntil = t + Math.min(p.lockBaseMs * 2 ** Math.min(e.lockouts, 40), p.lockMaxMs);
      e.lockouts++;
      e.failures = [];
      e.lastSeen = e.lockedUntil;
    }
    this.#entries.set(key, e);
    return Promise.resolve(decide(e, t));
  }

  reset(key: string): Promise<void> {
    this.#entries.delete(key);
    return Promise.resolve();
  }

  forgive(key: string): Promise<void> {
    const e = this.#entries.get(key);
    if (e && e.failures.length > 0) e.failures.pop();
    return Promise.resolve();
  }

  /** The key's entry, unless it has nothing left to remember (then it is dropped). */
  #live(key: string, t: number): Entry | undefined {
    const e = this.#entries.get(key);
    if (e && this.#spent(e, t)) {
      this.#entries.delete(key);
      return undefined;
    }
    return e;
  }

  #spent(e: Entry, t: number): boolean {
    if (t < e.lockedUntil) return false;
    if (e.failures.some((f) => t - f < this.#policy.windowMs)) return false;
    return e.lockouts === 0 || t - e.lastSeen >= this.#policy.forgetMs;
  }

  #makeRoom(t: number): void {
    if (this.#entries.size < this.#maxKeys) return;
    let unlocked: string | undefined;
    let scanned = 0;
    for (const [key, e] of this.#entries) {
      if (this.#spent(e, t)) {
        this.#entries.delete(key);
        return;
      }
      if (unlocked === undefined && t >= e.lockedUntil) unlocked = key;
      if (++scanned >= EVICTION_SCAN) break;
    }
    const victim = unlocked ?? this.#entries.keys().next().value;
    if (victim !== undefined) this.#entries.delete(victim);
  }
}

function decide(e: Entry | undefined, t: number): Decision {
  return e && t < e.lockedUntil ? { allowed: false, retryAfterMs: e.lockedUntil - t } : { allowed: true };
}
