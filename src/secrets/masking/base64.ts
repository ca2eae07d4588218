// The base64 and hex forms of a secret, as they appear in a job's output.
//
// Inside a longer base64 text a value's encoding depends on how many bytes came before it (0, 1 or
// 2 modulo 3): for each of the three alignments we keep the characters fixed by the value's own
// bytes (`fixed`), which every encoding of any text containing the value at that alignment holds.
// When the value ends the encoded text the last character and padding are known too (`tail`), also
// for the value followed by "\n", the way `echo "$S" | base64` prints it. `base64` wraps its output
// at 76 columns and `xxd -p` at 60, so for a value that starts the encoded text (the common
// `printf %s "$S" | base64` case) each full wrapped line is a form as well, and the last, shorter
// line too — as a whole line only (a "\n"-marked form, see matcher.ts) when it is shorter than
// 16 characters: that short, it would match inside unrelated text, and it would shrink the
// matcher's window for every other form.
//
// Double base64 (the form a supply-chain attack used in 2025 to get secrets past GitHub's masker):
// the fixed parts of the value's encodings, themselves encoded at the three alignments, and the
// encoding of the whole encoded value (`base64 | base64`).

const BASE64_WRAP = 76;
const XXD_WRAP = 60;
/** A wrapped dump's last line shorter than this is matched only as a whole line. */
const LINE_ONLY_BELOW = 16;

/** Characters of the base64 of `bytes` preceded by `shift` unknown bytes, fixed by `bytes` alone. */
export function fixedPart(bytes: Buffer, shift: number): string {
  const enc = Buffer.concat([Buffer.alloc(shift), bytes]).toString("base64");
  return enc.slice(Math.ceil((8 * shift) / 6), Math.floor((8 * (shift + bytes.length)) / 6));
}

/** The encoding from the value's first fixed character to the end, padding included. */
export function tailPart(bytes: Buffer, shift: number): string {
  const enc = Buffer.concat([Buffer.alloc(shift), bytes]).toString("base64");
  return enc.slice(Math.ceil((8 * shift) / 6));
}

const toUrl = (s: string): string => s.replace(/\+/g, "-").replace(/\//g, "_");
const unpadded = (s: string): string => s.replace(/=+$/, "");

/** Lines of `text` wrapped at `width`. */
function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += width) out.push(text.slice(i, i + width));
  return out;
}

/** The lines of `text` wrapped at `width` as forms, when it is longer than one line. */
function wrapped(text: string, width: number): string[] {
  if (text.length <= width) return [];
  return wrap(text, width).map((l) => (l.length < LINE_ONLY_BELOW ? `\n${l}` : l));
}

/** base64 (standard and URL alphabets, padded and not), wrapped lines, double base64. */
export function base64Forms(value: string): string[] {
  const bytes = Buffer.from(value, "utf8");
  const echoed = Buffer.concat([bytes, Buffer.from("\n")]);
  const single: string[] = [];
  for (let shift = 0; shift < 3; shift++) {
    single.push(fixedPart(bytes, shift), fixedPart(echoed, shift));
    for (const t of [tailPart(bytes, shift), tailPart(echoed, shift)]) single.push(t, unpadded(t));
  }
  const out = [...single, ...single.map(toUrl)];
  const whole = bytes.toString("base64");
  const wholeEchoed = echoed.toString("base64");
  const lines = [...wrapped(whole, BASE64_WRAP), ...wrapped(wholeEchoed, BASE64_WRAP)];
  out.push(...lines, ...lines.map(toUrl));
  // Double: every inner fixed part at every outer alignment, and the whole inner text re-encoded.
  const inner = [0, 1, 2].map((shift) => Buffer.from(fixedPart(bytes, shift)));
  for (const i of inner) for (let shift = 0; shift < 3; shift++) out.push(fixedPart(i, shift));
  // As `base64 -w0` prints them, and as `base64` does (wrapped, a newline at the end).
  const printed = (enc: string): string => `${wrap(enc, BASE64_WRAP).join("\n")}\n`;
  for (const i of [whole, wholeEchoed, printed(whole), printed(wholeEchoed)]) {
    const t = Buffer.from(i).toString("base64");
    out.push(t, unpadded(t), ...wrapped(t, BASE64_WRAP));
  }
  return out;
}

/** Hex in both cases (also with echo's newline), and `xxd -p` lines of a value that starts the dump. */
export function hexForms(value: string): string[] {
  const hex = Buffer.from(value, "utf8").toString("hex");
  const echoed = `${hex}0a`; // echo "$S" | xxd -p
  const all = [hex, echoed, ...wrapped(hex, XXD_WRAP), ...wrapped(echoed, XXD_WRAP)];
  return [...all, ...all.map((h) => h.toUpperCase())];
}
