// Helpers for the masking tests: a seeded generator (a failure names the seed that reproduces it),
// random secrets, random log text, and a naive reference masker written independently of
// src/secrets/masking (indexOf per form, escape sequences found with one regular expression) that
// the real one must agree with, byte for byte.

/** mulberry32: small, seeded, good enough for test data. */
export function rng(seed: number): Random {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const chars = (n: number, alphabet: readonly string[]): string =>
    Array.from({ length: n }, () => pick(alphabet)).join("");
  return { next, int, pick, chars };
}

export interface Random {
  next(): number;
  int(lo: number, hi: number): number;
  pick<T>(xs: readonly T[]): T;
  chars(n: number, alphabet: readonly string[]): string;
}

/** Seeds for a property: MASKING_SEED=<n> reruns one. */
export function seeds(count: number, base: number): number[] {
  const one = process.env.MASKING_SEED;
  if (one !== undefined) return [Number(one)];
  return Array.from({ length: count }, (_, i) => base + i);
}

const split = (s: string): string[] => Array.from(s);
export const ALPHABETS = {
  alnum: split("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
  base64: split("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="),
  hex: split("0123456789abcdef"),
  symbols: split(`!"#$%&'()*+,-./:;<=>?@[\\]^_\`{|}~ `),
  unicode: ["é", "ß", "✓", "€", "中", "文", "😀", "🔑", "\u00a0", "Ω", "ж"],
} as const;

/** A random secret: 8 to 70 characters from a random mix of alphabets; sometimes several lines. */
export function randomSecret(r: Random): string {
  const mix: string[] = [];
  for (const a of Object.values(ALPHABETS)) if (r.next() < 0.5) mix.push(...a);
  if (mix.length === 0) mix.push(...ALPHABETS.alnum);
  const line = (): string => {
    const s = r.chars(r.int(8, 70), mix).trim();
    return Array.from(s).length >= 8 ? s : `${s}${r.chars(8, ALPHABETS.alnum)}`;
  };
  if (r.next() < 0.15) return Array.from({ length: r.int(2, 4) }, line).join(r.pick(["\n", "\r\n"]));
  return line();
}

/** Random escape sequences: colours, cursor moves, OSC titles and hyperlinks, charset switches. */
export function randomEscape(r: Random): string {
  return r.pick([
    () => `\x1b[${r.int(0, 107)}m`,
    () => `\x1b[${r.int(0, 9)};${r.int(30, 37)}m`,
    () => `\x1b[${r.int(1, 80)}${r.pick(["A", "B", "C", "D", "G", "K"])}`,
    () => `\x1b]0;title ${r.int(0, 99)}\x07`,
    () => `\x1b]8;;https://example.test/${r.int(0, 999)}\x1b\\`,
    () => "\x1b(B",
    () => "\x1b7",
    () => "\x1b[?25l",
  ])();
}

/** Random log text (no secret in it by construction of the alphabet: ASCII words, unicode, escapes). */
export function randomText(r: Random, length: number): string {
  const parts: string[] = [];
  let n = 0;
  while (n < length) {
    const p = r.pick([
      () => r.chars(r.int(1, 12), ALPHABETS.alnum),
      () => " ",
      () => "\n",
      () => r.pick(["\r\n", "\r", "\t", "\uFFFD", "\x1b", "\x1b[", "\x1b]", "%", "\\"]),
      () => r.chars(r.int(1, 4), ALPHABETS.unicode),
      () => randomEscape(r),
      () => r.chars(r.int(1, 30), ALPHABETS.symbols),
    ])();
    parts.push(p);
    n += p.length;
  }
  return parts.join("");
}

// ------------------------------------------------------------ the reference masker

const ESCAPE =
  // eslint-disable-next-line no-control-regex -- ESC and BEL are what this looks for
  /\x1b(?:\[[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]|\][^\x07\x1b\r\n]*(?:\x07|\x1b\\)|[\x20-\x2f]+[\x30-\x7e]|[\x30-\x5a\x5c\x5e-\x7e])/g;

/** [start, end) of complete escape sequences, as the masker's bounded grammar defines them. */
function escapeSpans(text: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const m of text.matchAll(ESCAPE)) {
    const limit = m[0][1] !== "]" ? 64 : m[0].endsWith("\x07") ? 4096 : 4097;
    if (m[0].length <= limit) out.push([m.index, m.index + m[0].length]);
  }
  return out;
}

/**
 * Masks `text` the slow, obvious way: every occurrence of every form, as written and as seen;
 * a form written "\n<text>" only where a whole line (without a trailing "\r") is <text>.
 */
export function referenceMask(text: string, allForms: readonly string[]): string {
  const forms = allForms.filter((f) => !f.startsWith("\n"));
  const wholeLines = new Set(allForms.filter((f) => f.startsWith("\n")).map((f) => f.slice(1)));
  const spans: Array<[number, number]> = [];
  const occurrences = (hay: string, add: (s: number, e: number) => void): void => {
    for (const f of forms)
      for (let i = hay.indexOf(f); i >= 0; i = hay.indexOf(f, i + 1)) add(i, i + f.length);
  };
  occurrences(text, (s, e) => spans.push([s, e]));
  const escapes = escapeSpans(text);
  let lineStart = 0;
  for (const line of text.split("\n")) {
    const lineEnd = lineStart + line.length;
    const bare = line.endsWith("\r") ? line.slice(0, -1) : line;
    if (wholeLines.has(bare)) spans.push([lineStart, lineStart + bare.length]);
    const inLine = escapes.filter(([s]) => s >= lineStart && s < lineEnd);
    if (inLine.length > 0) {
      const origin: number[] = [];
      let view = "";
      for (let i = lineStart; i < lineEnd; i++) {
        if (inLine.some(([s, e]) => i >= s && i < e)) continue;
        origin.push(i);
        view += text[i];
      }
      occurrences(view, (s, e) => spans.push([origin[s]!, origin[e - 1]! + 1]));
    }
    lineStart = lineEnd + 1;
  }
  spans.sort((a, b) => a[0] - b[0]);
  let out = "";
  let pos = 0;
  let end = -1;
  for (const [s, e] of spans) {
    if (s <= end) {
      end = Math.max(end, e);
      continue;
    }
    if (end >= 0) pos = end;
    out += text.slice(pos, s) + "***";
    end = e;
  }
  if (end >= 0) pos = end;
  return out + text.slice(pos);
}

/** Cuts `text` at random points (sometimes inside escape sequences and surrogate pairs). */
export function randomChunks(r: Random, text: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    const n = r.pick([1, 2, 3, r.int(1, 20), r.int(1, 200), r.int(1, 5000)]);
    out.push(text.slice(i, i + n));
    i += n;
  }
  return out;
}
