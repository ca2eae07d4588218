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
export function safeCut(text: string, keep: number, escapes: Escapes | undefined): number {
  const lineStart = text.lastIndexOf("\n") + 1;
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
  if (i > 0 && i < text.length && before >= 0xd800 && before <= 0xdbff) i--;
  return i;
}

export class MaskStream {
  private held = "";
  /** Stream offset of held[0]. */
  private heldAt = 0;
  /** Stream offset where the last `***` written ends (-1: none yet). */
  private covered = -1;

  constructor(private readonly source: MatcherSource) {}

  /** Masks the next chunk; returns what may go out now (possibly ""). */
  write(chunk: string): string {
    if (this.held === "") return this.process(chunk, false);
    // What was held ends with the first line of the chunk; after that line nothing is held any
    // more, so the rest of the chunk is masked as it is (no copy of it joined to the held text).
    const nl = chunk.indexOf("\n");
    if (nl < 0 || nl === chunk.length - 1) return this.process(this.held + chunk, false);
    const head = this.process(this.held + chunk.slice(0, nl + 1), false);
    const rest = chunk.slice(nl + 1);
    return head + this.process(this.held === "" ? rest : this.held + rest, false);
  }

  /** The end of the stream: everything still held, masked. */
  end(): string {
    return this.process(this.held, true);
  }

  private process(text: string, final: boolean): string {
    const matcher = this.source.matcher();
    if (!matcher && this.covered < this.heldAt) {
      this.heldAt += text.length;
      this.held = "";
      return text;
    }
    const escapes = matcher ? escapesOf(text) : undefined;
    const spans = matcher ? maskedSpans(matcher, text, escapes) : [];
    const keep = matcher ? matcher.maxLength - 1 : 0;
    const cut = final ? text.length : safeCut(text, keep, escapes);
    const r = render(text, spans, cut, this.covered - this.heldAt);
    this.covered = r.covered + this.heldAt;
    this.held = text.slice(cut);
    this.heldAt += cut;
    return r.out;
  }
}
