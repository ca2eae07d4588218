// What a secret looks like in a log: the strings the masker hides for one registered value.
//
// A value is masked as a whole when it is one line, and line by line (each trimmed, as GitHub does)
// when it has several: output reaches the masker a line at a time. Each piece of at least
// MIN_SECRET_LENGTH characters is hidden as it is and in the forms that programs print it in:
// JSON string escaping (also with \u escapes, as Python writes it), URL encoding (encodeURIComponent,
// the stricter RFC 3986 set, "+" for spaces), shell quoting (inside '...', inside "...", bash's
// printf %q), hex and base64 (base64.ts). A multi-line value's one-line encodings (JSON, URL,
// base64, hex of the whole text) are forms as well. No form holds a line break, so a form can never
// span two lines — which is what lets a stream flush everything up to a newline at once. (A form
// written "\n<text>" is <text> as a whole line: see matcher.ts.)
import { base64Forms, hexForms } from "./base64.js";

/**
 * Fewest characters (Unicode code points) a secret may have. Shorter values are refused: masking
 * "true" or a 3-digit PIN would hide every occurrence of them in every log, and their base64 forms
 * (5 characters and less) would match inside unrelated base64 text. GitLab asks the same of masked
 * variables. The trade-off: a genuinely short secret must be lengthened or kept out of secrets.
 */
export const MIN_SECRET_LENGTH = 8;

/** Characters in the sense of the minimum: code points, not UTF-16 units. */
export function characterCount(value: string): number {
  return Array.from(value).length;
}

const LINE_BREAK = /\r\n|\r|\n/;

/** The one-line pieces of a value: the whole (trimmed) value when it has no line break, and each line, trimmed. */
export function valuePieces(value: string): string[] {
  const trimmed = value.trim();
  const pieces = new Set<string>();
  if (!LINE_BREAK.test(trimmed)) pieces.add(trimmed);
  for (const line of trimmed.split(LINE_BREAK)) {
    const l = line.trim();
    if (l !== "") pieces.add(l);
  }
  pieces.delete("");
  return [...pieces];
}

function jsonForms(v: string): string[] {
  const json = JSON.stringify(v).slice(1, -1);
  const ascii = json.replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return [json, ascii];
}

function urlForms(v: string): string[] {
  let enc: string;
  try {
    enc = encodeURIComponent(v);
  } catch {
    return []; // a lone surrogate has no URL encoding
  }
  const strict = enc.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return [enc, strict, enc.replace(/%20/g, "+"), strict.replace(/%20/g, "+")];
}

function shellForms(v: string): string[] {
  return [
    v.replace(/'/g, "'\\''"), // inside '...'
    v.replace(/[\\"$`]/g, "\\$&"), // inside "..."
    v.replace(/[ ,!"$&'()*;<>?[\]^`{|}\\]/g, "\\$&").replace(/^[~#]/, "\\$&"), // printf %q
  ];
}

/** Every form of a one-line piece (the piece itself first). */
export function pieceForms(piece: string): string[] {
  return [
    piece,
    ...jsonForms(piece),
    ...urlForms(piece),
    ...shellForms(piece),
    ...base64Forms(piece),
    ...hexForms(piece),
  ];
}

/** The one-line encodings of a whole multi-line value. */
function multiLineForms(value: string): string[] {
  return [...jsonForms(value), ...urlForms(value), ...base64Forms(value), ...hexForms(value)];
}

/** The strings to hide for a secret value: its pieces of at least `min` characters and their forms. */
export function secretForms(value: string, min = MIN_SECRET_LENGTH): string[] {
  const out = new Set<string>();
  const add = (forms: string[]): void => {
    for (const f of forms) {
      const text = f.startsWith("\n") ? f.slice(1) : f;
      if (text.length >= min && !LINE_BREAK.test(text)) out.add(f);
    }
  };
  for (const piece of valuePieces(value)) if (characterCount(piece) >= min) add(pieceForms(piece));
  const trimmed = value.trim();
  if (LINE_BREAK.test(trimmed) && characterCount(trimmed) >= min) add(multiLineForms(trimmed));
  return [...out];
}
