// The two halves of masking a piece of text: finding the spans to hide (every occurrence of every
// form, on the text as it is and, on lines holding escape sequences, on the visible characters),
// and writing the text out with each span replaced by `***`. Spans that overlap or touch become
// one `***`, so the result does not depend on the order secrets were registered in.
import { appendVisible, scanEscapes, visibleOrigin, type Escapes } from "./ansi.js";
import type { MultiMatcher } from "./matcher.js";

export const MASK = "***";

/** Merges [start, end) pairs (any order) into ordered spans; touching spans merge too. */
export function mergeSpans(raw: number[]): number[] {
  if (raw.length <= 2) return raw;
  const order = Array.from({ length: raw.length / 2 }, (_, i) => i);
  order.sort((a, b) => raw[2 * a]! - raw[2 * b]!);
  const out: number[] = [];
  for (const i of order) {
    const s = raw[2 * i]!;
    const e = raw[2 * i + 1]!;
    const last = out.length - 1;
    if (last > 0 && s <= out[last]!) out[last] = Math.max(out[last]!, e);
    else out.push(s, e);
  }
  return out;
}

/** `escapes` of text[from..] when it holds an ESC at all (scanEscapes), else undefined. */
export function escapesOf(text: string, from = 0): Escapes | undefined {
  return text.includes("\x1b", from) ? scanEscapes(text, from, text.length) : undefined;
}

/** Scratch list of matches: most texts hold none, and a line costs no allocation then. */
const scratch: number[] = [];
/** What maskedSpans returns for no match; callers never change a result. */
const NONE: number[] = [];

/**
 * Ordered, merged spans of text[from..] to hide (`lineStart`: text[from] starts a line). Working
 * from an offset instead of on a slice keeps the text flat: V8 reads a sliced string slower.
 */
export function maskedSpans(
  matcher: MultiMatcher,
  text: string,
  escapes: Escapes | undefined,
  lineStart = true,
  from = 0,
): number[] {
  matcher.find(text, from, text.length, scratch);
  matcher.findLines(text, from, lineStart, scratch);
  if (escapes && escapes.spans.length > 0) visibleMatches(matcher, text, from, escapes.spans, scratch);
  if (scratch.length === 0) return NONE;
  const found = scratch.slice();
  scratch.length = 0;
  return mergeSpans(found);
}

/**
 * Matches in the visible text of the lines holding escape sequences. Those lines, their sequences
 * taken out, are joined with "\n" (no form holds one) and matched at once; a match is mapped back
 * to the span of `text` it covers, sequences inside included.
 */
function visibleMatches(
  matcher: MultiMatcher,
  text: string,
  from: number,
  seq: number[],
  raw: number[],
): void {
  const parts: string[] = [];
  /** Per line: where its visible text starts in the view, where the line starts, its first sequence. */
  const lines: number[] = [];
  let viewLength = 0;
  for (let k = 0; k < seq.length;) {
    const at = seq[k] ?? 0;
    const lineStart = Math.max(from, text.lastIndexOf("\n", at) + 1);
    const nl = text.indexOf("\n", at);
    lines.push(viewLength, lineStart, k);
    const first = parts.length;
    k = appendVisible(text, lineStart, nl < 0 ? text.length : nl, seq, k, parts);
    for (let j = first; j < parts.length; j++) viewLength += parts[j]!.length;
    parts.push("\n");
    viewLength += 1;
  }
  const view = parts.join("");
  const found: number[] = [];
  matcher.find(view, 0, view.length, found);
  for (let j = 0; j < found.length; j += 2) {
    const s = found[j]!;
    // The last line whose visible text starts at or before s.
    let lo = 0;
    let hi = lines.length / 3 - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lines[3 * mid]! <= s) lo = mid;
      else hi = mid - 1;
    }
    const at = lines[3 * lo]!;
    const lineStart = lines[3 * lo + 1]!;
    const k = lines[3 * lo + 2]!;
    raw.push(
      visibleOrigin(lineStart, s - at, seq, k),
      visibleOrigin(lineStart, found[j + 1]! - 1 - at, seq, k) + 1,
    );
  }
}

/**
 * text[from..cut) with `spans` hidden. `covered` is where the last `***` already written ends
 * (in text's positions; at most `from` - 1 when none reaches into it): a span starting at or
 * before it continues that mask instead of writing another. Returns the text and the new `covered`.
 */
export function render(
  text: string,
  spans: number[],
  cut: number,
  covered: number,
  from = 0,
): { out: string; covered: number } {
  if (spans.length === 0 && covered <= from)
    return { out: from === 0 && cut === text.length ? text : text.slice(from, cut), covered };
  const parts: string[] = [];
  let pos = Math.max(from, Math.min(covered, cut));
  for (let k = 0; k < spans.length; k += 2) {
    const s = spans[k]!;
    const e = spans[k + 1]!;
    if (s >= cut) break;
    if (s <= covered) {
      covered = Math.max(covered, e);
      pos = Math.max(pos, Math.min(covered, cut));
      continue;
    }
    parts.push(text.slice(pos, s), MASK);
    covered = e;
    pos = Math.min(e, cut);
  }
  if (pos < cut) parts.push(text.slice(pos, cut));
  return { out: parts.join(""), covered };
}
