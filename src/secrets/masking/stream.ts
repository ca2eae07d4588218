// Masking of one output stream that arrives in chunks cut anywhere (a pipe read, a network frame):
// a secret split across two chunks is still hidden, and the concatenated output is exactly what
// masking the whole stream at once would give. Each stream (stdout, stderr) gets its own
// MaskStream, so output interleaved between them is masked before it is interleaved.
//
// What is held back: a match can only be cut by the end of the text seen so far, and no form is
// longer than the longest registered one (L) or holds a line break. So everything up to the last
// newline goes out at once, and of the last, unfinished line only the final L - 1 visible
// characters wait for the next chunk (more only when an escape sequence or a surrogate pair is
// cut in two: the stream never splits one). end() flushes the rest.
import type { Escapes } from "./ansi.js";
import { escapesOf, maskedSpans, render } from "./spans.js";
import type { MultiMatcher } from "./matcher.js";

/** The compiled state a stream masks with; it may change between chunks (`::add-mask::`). */
export interface MatcherSource {
  matcher(): MultiMatcher | undefined;
}

/** Where to stop writing: before the last `keep` visible characters of the last line, or earlier. */
export function safeCut(text: string, keep: number, escapes: Escapes | undefined, from = 0): number {
  const lineStart = Math.max(from, text.lastIndexOf("\n") + 1);
  const seq = escapes?.spans ?? [];
  let k = seq.length - 2;
  // A sequence the end cut short counts as invisible: it is held whole, and `keep` visible
  // characters before it.
  let i = escapes && escapes.incomplete >= 0 ? escapes.incomplete : text.length;
  let need = keep;
  while (need > 0 && i > lineStart) {
    if (k >= 0 && seq[k + 1] === i) {
      i = seq[k]!;
      k -= 2;
      continue;
    }
    if (k >= 0 && seq[k + 1]! > i) {
      k -= 2;
      continue;
    }
    i--;
    need--;
  }
  // Never between the halves of a surrogate pair: the writer of the output would break both.
  const before = text.charCodeAt(i - 1);
  if (i > from && i < text.length && before >= 0xd800 && before <= 0xdbff) i--;
  return i;
}

export class MaskStream {
  private held = "";
  /** Stream offset of held[0]. */
  private heldAt = 0;
  /** Stream offset where the last `***` written ends (-1: none yet). */
  private covered = -1;
  /** held[0] starts a line. */
  private lineStart = true;

  constructor(private readonly source: MatcherSource) {}

  /** Masks the next chunk; returns what may go out now (possibly ""). */
  write(chunk: string): string {
    if (this.held === "") return this.process(chunk, 0, false);
    // What was held ends with the first line of the chunk; after that line nothing is held any
    // more, so the rest of the chunk is masked where it is (not joined to the held text, nor
    // sliced: a flat string is read fastest).
    const nl = chunk.indexOf("\n");
    if (nl < 0 || nl === chunk.length - 1) return this.process(this.held + chunk, 0, false);
    const head = this.process(this.held + chunk.slice(0, nl + 1), 0, false);
    if (this.held !== "") return head + this.process(this.held + chunk.slice(nl + 1), 0, false);
    return head + this.process(chunk, nl + 1, false);
  }

  /** The end of the stream: everything still held, masked. */
  end(): string {
    return this.process(this.held, 0, true);
  }

  /** Masks text[from..], which continues the stream at `heldAt`. */
  private process(text: string, from: number, final: boolean): string {
    const matcher = this.source.matcher();
    if (!matcher && this.covered < this.heldAt) {
      if (text.length > from) this.lineStart = text.endsWith("\n");
      this.heldAt += text.length - from;
      this.held = "";
      return from === 0 ? text : text.slice(from);
    }
    // Positions in text ↔ stream offsets: text[from] is at heldAt.
    const base = this.heldAt - from;
    const escapes = matcher ? escapesOf(text, from) : undefined;
    const spans = matcher ? maskedSpans(matcher, text, escapes, this.lineStart, from) : [];
    const keep = matcher ? matcher.maxLength - 1 : 0;
    const cut = final ? text.length : safeCut(text, keep, escapes, from);
    const r = render(text, spans, cut, this.covered - base, from);
    this.covered = r.covered + base;
    if (cut > from) this.lineStart = text.charCodeAt(cut - 1) === 0x0a;
    this.held = text.slice(cut);
    this.heldAt = base + cut;
    return r.out;
  }
}
