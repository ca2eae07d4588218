// Shell-like word splitting WITHOUT a shell, for `container.options` and a `docker://` step's
// `with: args`: whitespace separates words; '…' keeps everything literally; "…" keeps everything
// but lets a backslash escape `"` and `\`; outside quotes a backslash escapes the next character.
// Nothing else is special: `$VAR`, `$(…)`, backquotes, `*`, `;`, `|`, `&`, `>` are plain characters
// (no expansion, no globbing, no redirection), so the words are exactly what was written. The text
// comes from a job source: it is bounded in size and word count, and control characters (NUL, ESC,
// …) other than tab and line breaks are refused.
import { AirlockError, ErrorCode } from "../errors/index.js";

export const MAX_WORDS_TEXT = 64 * 1024;
export const MAX_WORDS = 1000;

/** Splits `text` into words; throws CONTAINER_OPTION_REFUSED (`what` names the field) when it cannot. */
export function splitWords(text: string, what = "options"): string[] {
  const refuse = (why: string): never => {
    throw new AirlockError(ErrorCode.CONTAINER_OPTION_REFUSED, `${what}: ${why}`);
  };
  if (text.length > MAX_WORDS_TEXT) refuse(`longer than ${MAX_WORDS_TEXT} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text))
    refuse("control characters are not allowed");
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let i = 0;
  const push = (): void => {
    if (!inWord) return;
    if (words.length >= MAX_WORDS) refuse(`more than ${MAX_WORDS} words`);
    words.push(word);
    word = "";
    inWord = false;
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      push();
      i++;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) refuse("unterminated single quote");
      word += text.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      inWord = true;
      i++;
      for (;;) {
        if (i >= text.length) refuse("unterminated double quote");
        const d = text[i]!;
        if (d === '"') {
          i++;
          break;
        }
        if (d === "\\" && (text[i + 1] === '"' || text[i + 1] === "\\")) {
          word += text[i + 1];
          i += 2;
        } else {
          word += d;
          i++;
        }
      }
    } else if (c === "\\") {
      if (i + 1 >= text.length) refuse("a backslash at the end escapes nothing");
      word += text[i + 1];
      inWord = true;
      i += 2;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  push();
  return words;
}
