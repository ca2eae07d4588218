// Finds every occurrence of many fixed strings in a text at once: the masker's hot loop, run over
// every byte a job prints. Wu–Manber: a window of the shortest pattern length `m` slides over the
// text; the hash of the window's last three characters says how far it may jump (most windows end
// in a triple that no pattern holds near its start, so the jump is m - 2 characters and most of the
// text is never read), and a zero jump lists the patterns to compare there. With 100 secrets
// (~4,000 forms) it reads a fraction of the characters instead of walking an automaton per
// character, which is what keeps masking within a small factor of a plain copy (bench:masking).
//
// Patterns shorter than MIN_WINDOW (only `::add-mask::` values below the secret minimum can be)
// are searched with indexOf, one by one: they are rare and a window that short would jump little.
// A pattern written "\n<text>" matches <text> only as a whole line (a trailing "\r" aside): the
// short last line of a wrapped base64 or hex dump. Those are looked up per line in a set.
// Characters are UTF-16 code units, as in JavaScript strings.

/** Block of characters hashed to decide a jump. */
const BLOCK = 4;
/** Windows longer than this gain little (the table fills up) and cost every short pattern. */
const MAX_WINDOW = 16;
export const MIN_WINDOW = 8;
const TABLE_BITS = 20;
const TABLE_MASK = (1 << TABLE_BITS) - 1;

const hash4 = (a: number, b: number, c: number, d: number): number =>
  ((a << 15) ^ (b << 10) ^ (c << 5) ^ d) & TABLE_MASK;

export class MultiMatcher {
  /** Longest pattern: a match never spans more characters than this. */
  readonly maxLength: number;
  private readonly m: number;
  private readonly shift: Uint8Array;
  /** Hash of a window's last block → patterns whose first m characters end with such a block. */
  private readonly buckets = new Map<number, string[]>();
  private readonly short: string[];
  /** Patterns that match whole lines only. */
  private readonly lines = new Set<string>();
  private maxLine = 0;

  constructor(patterns: Iterable<string>) {
    const long: string[] = [];
    const short: string[] = [];
    let maxLength = 0;
    for (const p of new Set(patterns)) {
      if (p.startsWith("\n")) {
        if (p.length > 1) this.lines.add(p.slice(1));
        this.maxLine = Math.max(this.maxLine, p.length - 1);
      } else if (p.length > 0) (p.length >= MIN_WINDOW ? long : short).push(p);
      maxLength = Math.max(maxLength, p.length);
    }
    this.maxLength = maxLength;
    this.short = short;
    let m = long.length === 0 ? 0 : MAX_WINDOW;
    for (const p of long) m = Math.min(m, p.length);
    this.m = m;
    this.shift = new Uint8Array(long.length === 0 ? 0 : TABLE_MASK + 1).fill(m - BLOCK + 1);
    for (const p of long) {
      for (let j = BLOCK - 1; j < m; j++) {
        const h = hash4(p.charCodeAt(j - 3), p.charCodeAt(j - 2), p.charCodeAt(j - 1), p.charCodeAt(j));
        const s = m - 1 - j;
        if (s < this.shift[h]!) this.shift[h] = s;
      }
      const h = hash4(p.charCodeAt(m - 4), p.charCodeAt(m - 3), p.charCodeAt(m - 2), p.charCodeAt(m - 1));
      const list = this.buckets.get(h);
      if (list) list.push(p);
      else this.buckets.set(h, [p]);
    }
  }

  /** Appends [start, end) of every occurrence inside text[from..to) to `out` (unordered). */
  find(text: string, from: number, to: number, out: number[]): void {
    for (const p of this.short) {
      for (let i = text.indexOf(p, from); i >= 0 && i + p.length <= to; i = text.indexOf(p, i + 1)) {
        out.push(i, i + p.length);
      }
    }
    const m = this.m;
    if (m === 0 || to - from < m) return;
    const shift = this.shift;
    if (to - from < 512) {
      // A line: one window (the second would cost more to set up than it saves).
      for (let i = from + m - 1; i < to;) {
        const h = hash4(
          text.charCodeAt(i - 3),
          text.charCodeAt(i - 2),
          text.charCodeAt(i - 1),
          text.charCodeAt(i),
        );
        const s = shift[h]!;
        i = s === 0 ? this.verify(text, i, h, to, out) : i + s;
      }
      return;
    }
    // Two windows slide at once, over the first and the second half of the window ends: each step
    // waits on a table lookup that waits on the text, and two independent chains of those run
    // side by side on the CPU. Every window end is in exactly one half: nothing is seen twice.
    const mid = from + m - 1 + ((to - from - m + 1) >> 1);
    let i = from + m - 1;
    let j = mid;
    while (i < mid && j < to) {
      const hi = hash4(
        text.charCodeAt(i - 3),
        text.charCodeAt(i - 2),
        text.charCodeAt(i - 1),
        text.charCodeAt(i),
      );
      const hj = hash4(
        text.charCodeAt(j - 3),
        text.charCodeAt(j - 2),
        text.charCodeAt(j - 1),
        text.charCodeAt(j),
      );
      const si = shift[hi]!;
      const sj = shift[hj]!;
      if (si === 0) i = this.verify(text, i, hi, to, out);
      else i += si;
      if (sj === 0) j = this.verify(text, j, hj, to, out);
      else j += sj;
    }
    for (; i < mid;) {
      const h = hash4(
        text.charCodeAt(i - 3),
        text.charCodeAt(i - 2),
        text.charCodeAt(i - 1),
        text.charCodeAt(i),
      );
      const s = shift[h]!;
      i = s === 0 ? this.verify(text, i, h, to, out) : i + s;
    }
    for (; j < to;) {
      const h = hash4(
        text.charCodeAt(j - 3),
        text.charCodeAt(j - 2),
        text.charCodeAt(j - 1),
        text.charCodeAt(j),
      );
      const s = shift[h]!;
      j = s === 0 ? this.verify(text, j, h, to, out) : j + s;
    }
  }

  /**
   * Appends the lines of text[from..] that are whole-line patterns. `lineStart`: text[from] starts a line
   * (false when the text begins in the middle of one, e.g. what a stream held back).
   */
  findLines(text: string, from: number, lineStart: boolean, out: number[]): void {
    if (this.lines.size === 0) return;
    let start = from;
    let whole = lineStart;
    for (;;) {
      const nl = text.indexOf("\n", start);
      let end = nl < 0 ? text.length : nl;
      if (end > start && text.charCodeAt(end - 1) === 0x0d) end--;
      if (whole && end - start <= this.maxLine && this.lines.has(text.slice(start, end)))
        out.push(start, end);
      if (nl < 0) return;
      start = nl + 1;
      whole = true;
    }
  }

  /** Compares the patterns listed for a window ending at `i`; returns the next window end. */
  private verify(text: string, i: number, h: number, to: number, out: number[]): number {
    const start = i - this.m + 1;
    for (const p of this.buckets.get(h)!) {
      if (start + p.length <= to && text.startsWith(p, start)) out.push(start, start + p.length);
    }
    return i + 1;
  }
}
