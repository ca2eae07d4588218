// The secret masker of one job: the values registered for it (job secrets, the job token,
// `::add-mask::` values), compiled into one multi-pattern matcher over all their forms, and the
// ways to apply it — to a whole text (a log line, an annotation, a step name), to a line cut short,
// and to a stream of chunks (MaskStream). Registering is cheap; the matcher is rebuilt on the next
// use after a change, so a value added mid-stream masks everything written after it.
import { AirlockError, ErrorCode } from "../../errors/index.js";
import { appendVisible, scanEscapes, visibleOrigin } from "./ansi.js";
import { characterCount, MIN_SECRET_LENGTH, secretForms, valuePieces } from "./forms.js";
import { MultiMatcher } from "./matcher.js";
import { escapesOf, maskedSpans, mergeSpans, render } from "./spans.js";
import { MaskStream, safeCut, type MatcherSource } from "./stream.js";

/**
 * Throws SECRET_TOO_SHORT for a value below MIN_SECRET_LENGTH characters (after trimming, as it is
 * masked). The message names the secret, never its value. An empty value is fine: there is nothing
 * to mask (a secret that is not set is "" in expressions).
 */
export function checkSecretValue(name: string, value: string): void {
  const n = characterCount(value.trim());
  if (n === 0 || n >= MIN_SECRET_LENGTH) return;
  throw new AirlockError(
    ErrorCode.SECRET_TOO_SHORT,
    `secret ${name} is shorter than ${MIN_SECRET_LENGTH} characters: it cannot be masked in logs without hiding ordinary text, so it is refused; use a longer value (or a variable, if it is not secret)`,
    { details: { name, minLength: MIN_SECRET_LENGTH } },
  );
}

export class SecretMasker implements MatcherSource {
  private readonly forms = new Set<string>();
  private compiled: MultiMatcher | undefined;
  private dirty = false;

  /** Number of strings hidden (all forms of all values). */
  get size(): number {
    return this.forms.size;
  }

  /** Every string hidden (all forms of all values; "\n<text>" hides <text> as a whole line). */
  registered(): ReadonlySet<string> {
    return this.forms;
  }

  /** A job secret: refused below the minimum (checkSecretValue), "" ignored. */
  addSecret(value: string, name = "(unnamed)"): void {
    checkSecretValue(name, value);
    this.add(secretForms(value));
  }

  /**
   * An `::add-mask::` value. As on GitHub it is hidden whatever its length (the step asked for
   * exactly that), as is each of its lines; the derived forms only from the minimum on. Blank
   * values are ignored (the runner warns about them).
   */
  addMask(value: string): void {
    if (value.trim() === "") return;
    this.add([...valuePieces(value), ...(/[\r\n]/.test(value) ? [] : [value]), ...secretForms(value)]);
  }

  private add(forms: string[]): void {
    for (const f of forms) {
      if (f === "" || this.forms.has(f)) continue;
      this.forms.add(f);
      this.dirty = true;
    }
  }

  /** The compiled matcher (undefined while nothing is registered). */
  matcher(): MultiMatcher | undefined {
    if (this.dirty) {
      this.compiled = new MultiMatcher(this.forms);
      this.dirty = false;
    }
    return this.compiled;
  }

  mask(text: string): string {
    const m = this.matcher();
    if (!m || text === "") return text;
    const spans = maskedSpans(m, text, escapesOf(text));
    return spans.length === 0 ? text : render(text, spans, text.length, -1).out;
  }

  /** Whether `text` holds anything mask() would hide. */
  contains(text: string): boolean {
    const m = this.matcher();
    return !!m && text !== "" && maskedSpans(m, text, escapesOf(text)).length > 0;
  }

  /**
   * For text cut short at an arbitrary point (an over-long line): like mask(), and a tail that is
   * the beginning of a form (a secret the cut split) is hidden too.
   */
  maskCut(text: string): string {
    const m = this.matcher();
    if (!m || text === "") return text;
    const escapes = escapesOf(text);
    const spans = [...maskedSpans(m, text, escapes)];
    const from = safeCut(text, m.maxLength - 1, escapes);
    const seq = escapes ? scanEscapes(text, from, text.length).spans : [];
    const parts: string[] = [];
    appendVisible(text, from, text.length, seq, 0, parts);
    const view = parts.join("");
    const k = this.longestFormPrefix(view);
    if (k > 0) spans.push(visibleOrigin(from, view.length - k, seq, 0), text.length);
    return render(text, mergeSpans(spans), text.length, -1).out;
  }

  /** Length of the longest suffix of `view` that is a proper prefix of a form (0: none). */
  private longestFormPrefix(view: string): number {
    let best = 0;
    const last = view.charCodeAt(view.length - 1);
    for (const f of this.forms) {
      for (let k = Math.min(f.length - 1, view.length); k > best; k--) {
        if (f.charCodeAt(k - 1) !== last) continue;
        let j = 0;
        while (j < k && f.charCodeAt(j) === view.charCodeAt(view.length - k + j)) j++;
        if (j === k) {
          best = k;
          break;
        }
      }
    }
    return best;
  }

  /** A fresh stream (one per output stream: stdout and stderr each get their own). */
  stream(): MaskStream {
    return new MaskStream(this);
  }
}
