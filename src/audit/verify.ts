// Verifying the hash chain, with no database or file in sight: entries go in one at a time in seq
// order (ChainVerifier, for streams) or as an array (verifyAuditChain). The first problem found
// is the answer. What the chain alone cannot show — entries cut from its end, or a chain
// recomputed from some entry on — shows only against a checkpoint kept elsewhere (`expect`).
import { GENESIS_HASH, hashEntry, type AuditEntry } from "./entry.js";

export type BreakReason =
  /** The entry's content no longer matches its hash, or its hash was recomputed after an edit. */
  | "edited"
  /** Entries are missing (a gap in seq, or the log ends before the checkpoint). */
  | "removed"
  /** An entry was put between two others (the ones after it renumbered, or a seq twice). */
  | "inserted"
  /** Entries are out of their order (content moved to another seq). */
  | "reordered"
  /** The first entry does not chain to the genesis value. */
  | "genesis"
  /** The log does not hold the checkpoint's head: cut at its end or rewritten. */
  | "checkpoint";

export interface ChainOk {
  ok: true;
  count: number;
  /** The last entry's hash (the genesis value when the log is empty). */
  head: string;
  lastSeq: number;
}

export interface ChainBroken {
  ok: false;
  /** The first entry that cannot be trusted; null when only a checkpoint's absence shows it. */
  seq: number | null;
  reason: BreakReason;
  message: string;
  /** Entries verified before the break. */
  verified: number;
}

export type ChainResult = ChainOk | ChainBroken;

/** A head kept outside the database: `airlock audit verify` printed "N entries, head H". */
export interface Checkpoint {
  /** The log must hold at least this many entries... */
  count?: number;
  /** ...and an entry with this hash (at seq `count` when count is given). */
  head?: string;
}

export class ChainVerifier {
  private expectedSeq = 1;
  private prevHash = GENESIS_HASH;
  private count = 0;
  private broken: ChainBroken | undefined;
  private headSeen = false;

  constructor(private readonly expect: Checkpoint = {}) {}

  /** Takes the next entry; returns the break once one is found (and ignores what follows). */
  push(e: AuditEntry): ChainBroken | undefined {
    if (this.broken) return this.broken;
    const b = this.check(e);
    if (b) return (this.broken = b);
    if (this.expect.head !== undefined && e.hash === this.expect.head) {
      if (this.expect.count === undefined || this.expect.count === e.seq) this.headSeen = true;
    }
    if (this.expect.head !== undefined && this.expect.count === e.seq && e.hash !== this.expect.head)
      return (this.broken = this.fail(
        e.seq,
        "checkpoint",
        `entry ${e.seq} has hash ${e.hash}, the checkpoint says ${this.expect.head}: the log was rewritten at or before entry ${e.seq}`,
      ));
    this.expectedSeq = e.seq + 1;
    this.prevHash = e.hash;
    this.count++;
    return undefined;
  }

  finish(): ChainResult {
    if (this.broken) return this.broken;
    const last = this.expectedSeq - 1;
    if (this.expect.count !== undefined && last < this.expect.count)
      return this.fail(
        last + 1,
        "removed",
        `the log ends at entry ${last} but the checkpoint has ${this.expect.count}: entries from ${last + 1} on were removed`,
      );
    if (this.expect.head !== undefined && !this.headSeen)
      return this.fail(
        null,
        "checkpoint",
        `the checkpoint head ${this.expect.head} is not in the log (${this.count} entries): entries were cut from its end, or it was rewritten`,
      );
    return { ok: true, count: this.count, head: this.prevHash, lastSeq: last };
  }

  private fail(seq: number | null, reason: BreakReason, message: string): ChainBroken {
    return { ok: false, seq, reason, message, verified: this.count };
  }

  private check(e: AuditEntry): ChainBroken | undefined {
    const want = this.expectedSeq;
    if (e.seq < want)
      return e.seq === want - 1 && this.count > 0
        ? this.fail(e.seq, "inserted", `entry ${e.seq} appears twice: one of them was inserted`)
        : this.fail(
            e.seq,
            "reordered",
            `entry ${e.seq} comes after entry ${want - 1}: entries were reordered`,
          );
    if (e.seq > want)
      return this.fail(
        want,
        "removed",
        want === e.seq - 1
          ? `entry ${want} is missing (the log goes from ${want - 1} to ${e.seq})`
          : `entries ${want} to ${e.seq - 1} are missing`,
      );
    if (hashEntry(e) !== e.hash) {
      // Its content hashes right under another seq: the entry moved.
      if (e.seq > 1 && hashEntry({ ...e, seq: e.seq - 1 }) === e.hash)
        return this.fail(
          e.seq - 1,
          "inserted",
          `entry ${e.seq} holds what was entry ${e.seq - 1}: an entry was inserted at ${e.seq - 1}`,
        );
      if (hashEntry({ ...e, seq: e.seq + 1 }) === e.hash)
        return this.fail(
          e.seq,
          "reordered",
          `entry ${e.seq} holds what was entry ${e.seq + 1}: entries were reordered (or removed and renumbered)`,
        );
      return this.fail(e.seq, "edited", `entry ${e.seq} was edited: its content does not match its hash`);
    }
    if (e.prevHash !== this.prevHash) {
      if (e.seq === 1)
        return this.fail(
          1,
          "genesis",
          `entry 1 does not chain to the genesis value (prev_hash ${e.prevHash})`,
        );
      return this.fail(
        e.seq - 1,
        "edited",
        `entry ${e.seq - 1} was edited and its hash recomputed: entry ${e.seq} chains to ${e.prevHash}, not to ${this.prevHash}`,
      );
    }
    return undefined;
  }
}

/**
 * Verifies entries given in seq order (as the database lists them; a dump's rows are sorted
 * first). Pure: no I/O.
 */
export function verifyAuditChain(entries: Iterable<AuditEntry>, expect: Checkpoint = {}): ChainResult {
  const v = new ChainVerifier(expect);
  for (const e of entries) if (v.push(e)) break;
  return v.finish();
}

/** One line for people: "audit log intact: N entries, head H" or what broke where. */
export function describeChain(r: ChainResult): string {
  if (r.ok) return `audit log intact: ${r.count} entries, head ${r.head}`;
  return `audit log broken${r.seq === null ? "" : ` at entry ${r.seq}`} (${r.reason}): ${r.message}`;
}
