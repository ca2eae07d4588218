// Terminal escape sequences in job output, for the masker: a secret printed with colour codes in
// the middle ("SEC\e[1mRET") must still be found. The masker matches twice on a line holding an
// escape: on the text as it is (which also sees what sits inside an OSC payload, e.g. a hyperlink)
// and on its "visible" view with every complete sequence taken out. Output keeps every sequence
// outside a masked span untouched.
//
// Recognised (ECMA-48): CSI `ESC [ params intermediates final`, OSC `ESC ] payload (BEL | ESC \)`,
// nF `ESC intermediates final` and two-character `ESC X`. Parsing looks forward only and is bounded
// (CSI_MAX, OSC_MAX), so a decision about one ESC never depends on text far away: a stream that
// has seen an ESC whose sequence has not ended yet holds the text back from there (`incomplete`).
// A malformed sequence, or one longer than its bound, is ordinary text.

export const ESC = 0x1b;
const CSI_MAX = 64;
const OSC_MAX = 4096;

/** The complete escape sequences of a text, as [start, end) pairs in order. */
export interface Escapes {
  spans: number[];
  /** Start of a sequence that the end of the text cut short (-1: none). Only the last one can be. */
  incomplete: number;
}

const inRange = (c: number, lo: number, hi: number): boolean => c >= lo && c <= hi;

/**
 * Length of the sequence at `i` (text[i] is ESC) within `text[..to]`: > 0 complete, 0 not a
 * sequence (the ESC is text), -1 cut short by `to`.
 */
function sequenceLength(text: string, i: number, to: number): number {
  if (i + 1 >= to) return -1;
  const c = text.charCodeAt(i + 1);
  if (c === 0x5b) {
    // CSI: parameter bytes, intermediate bytes, one final byte.
    let j = i + 2;
    const end = Math.min(to, i + CSI_MAX);
    while (j < end && inRange(text.charCodeAt(j), 0x30, 0x3f)) j++;
    while (j < end && inRange(text.charCodeAt(j), 0x20, 0x2f)) j++;
    if (j >= end) return end === to && to - i < CSI_MAX ? -1 : 0;
    return inRange(text.charCodeAt(j), 0x40, 0x7e) ? j + 1 - i : 0;
  }
  if (c === 0x5d) {
    // OSC: a payload on one line, ended by BEL or ST (ESC \).
    const end = Math.min(to, i + OSC_MAX);
    for (let j = i + 2; j < end; j++) {
      const d = text.charCodeAt(j);
      if (d === 0x07) return j + 1 - i;
      if (d === 0x0a || d === 0x0d) return 0;
      if (d === ESC) {
        if (j + 1 >= to) return -1;
        return text.charCodeAt(j + 1) === 0x5c ? j + 2 - i : 0;
      }
    }
    return end === to && to - i < OSC_MAX ? -1 : 0;
  }
  if (inRange(c, 0x20, 0x2f)) {
    // nF: intermediates, then a final byte (e.g. ESC ( B).
    let j = i + 2;
    while (j < to && j - i < CSI_MAX && inRange(text.charCodeAt(j), 0x20, 0x2f)) j++;
    if (j - i >= CSI_MAX) return 0;
    if (j >= to) return -1;
    return inRange(text.charCodeAt(j), 0x30, 0x7e) ? j + 1 - i : 0;
  }
  return inRange(c, 0x30, 0x7e) ? 2 : 0;
}

/** Escape sequences in text[from..to). */
export function scanEscapes(text: string, from: number, to: number): Escapes {
  const spans: number[] = [];
  let i = text.indexOf("\x1b", from);
  while (i >= 0 && i < to) {
    const n = sequenceLength(text, i, to);
    if (n < 0) return { spans, incomplete: i };
    if (n > 0) {
      spans.push(i, i + n);
      i = text.indexOf("\x1b", i + n);
    } else i = text.indexOf("\x1b", i + 1);
  }
  return { spans, incomplete: -1 };
}

/**
 * The visible characters of text[from..to), the sequences listed in `spans` (from index `k` on)
 * taken out, appended to `parts`. Returns the index of the first sequence at or after `to`.
 */
export function appendVisible(
  text: string,
  from: number,
  to: number,
  spans: number[],
  k: number,
  parts: string[],
): number {
  let pos = from;
  while (k < spans.length && spans[k]! < to) {
    const s = spans[k]!;
    if (s > pos) parts.push(text.slice(pos, s));
    pos = Math.max(pos, spans[k + 1]!);
    k += 2;
  }
  if (pos < to) parts.push(text.slice(pos, to));
  return k;
}

/**
 * Where the visible character `n` (counted from `from`) of text[from..) sits in `text`, with the
 * sequences listed in `spans` from index `k` on taken out.
 */
export function visibleOrigin(from: number, n: number, spans: number[], k: number): number {
  let pos = from;
  let left = n;
  while (k < spans.length) {
    const gap = spans[k]! - pos;
    if (gap > left) break;
    left -= Math.max(0, gap);
    pos = Math.max(pos, spans[k + 1]!);
    k += 2;
  }
  return pos + left;
}
