// ANSI escape sequences in log lines → styled text segments. Only SGR (ESC [ … m) is understood:
// 16/256/24-bit foreground and background colours, bold, faint, italic, underline, inverse and
// their resets. Every other escape sequence (cursor moves, OSC titles, …) is dropped, never shown
// and never interpreted. The output is plain data (text + style); the page renders it as text
// nodes with classes / CSSOM colours, so a log line can never become markup.

/** A colour: 0–15 (the 16 named colours, rendered with classes) or "#rrggbb". */
export type AnsiColour = number | string;

export interface AnsiStyle {
  fg?: AnsiColour;
  bg?: AnsiColour;
  bold?: boolean;
  faint?: boolean;
  italic?: boolean;
  underline?: boolean;
  inverse?: boolean;
}

export interface AnsiSegment {
  text: string;
  style: AnsiStyle;
}

// CSI sequences (ESC [ params intermediates final), OSC sequences (ESC ] … BEL or ESC \), and any
// other escape (ESC intermediates final, e.g. ESC ( B).
// eslint-disable-next-line no-control-regex
const ESCAPE = /\x1b(?:\[([0-9;:?<=>]*)[ -/]*([@-~])|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[ -/]*[0-~]|$)/g;

const hex2 = (n: number): string => Math.max(0, Math.min(255, n)).toString(16).padStart(2, "0");

/** The colour of index n of the 256-colour palette (16–255: cube and grey ramp). */
export function colour256(n: number): AnsiColour {
  if (n < 16) return n;
  if (n < 232) {
    const c = n - 16;
    const level = (v: number): number => (v === 0 ? 0 : 55 + v * 40);
    return `#${hex2(level(Math.floor(c / 36)))}${hex2(level(Math.floor(c / 6) % 6))}${hex2(level(c % 6))}`;
  }
  const g = 8 + (n - 232) * 10;
  return `#${hex2(g)}${hex2(g)}${hex2(g)}`;
}

/** Applies one SGR parameter list to a style (returns a new style object). */
export function applySgr(style: AnsiStyle, params: string): AnsiStyle {
  const s: AnsiStyle = { ...style };
  // "38:2::r:g:b" (colon form) is read as "38;2;r;g;b".
  const p = params === "" ? [0] : params.split(/[;:]/).map((x) => (x === "" ? 0 : Number(x)));
  for (let i = 0; i < p.length; i++) {
    const n = p[i] ?? 0;
    if (n === 0) {
      for (const k of Object.keys(s)) delete s[k as keyof AnsiStyle];
    } else if (n === 1) s.bold = true;
    else if (n === 2) s.faint = true;
    else if (n === 3) s.italic = true;
    else if (n === 4) s.underline = true;
    else if (n === 7) s.inverse = true;
    else if (n === 22) {
      delete s.bold;
      delete s.faint;
    } else if (n === 23) delete s.italic;
    else if (n === 24) delete s.underline;
    else if (n === 27) delete s.inverse;
    else if (n >= 30 && n <= 37) s.fg = n - 30;
    else if (n >= 90 && n <= 97) s.fg = n - 90 + 8;
    else if (n === 39) delete s.fg;
    else if (n >= 40 && n <= 47) s.bg = n - 40;
    else if (n >= 100 && n <= 107) s.bg = n - 100 + 8;
    else if (n === 49) delete s.bg;
    else if (n === 38 || n === 48) {
      const key = n === 38 ? "fg" : "bg";
      const mode = p[i + 1];
      if (mode === 5 && p[i + 2] !== undefined) {
        s[key] = colour256(Math.max(0, Math.min(255, p[i + 2] ?? 0)));
        i += 2;
      } else if (mode === 2 && p[i + 4] !== undefined) {
        s[key] = `#${hex2(p[i + 2] ?? 0)}${hex2(p[i + 3] ?? 0)}${hex2(p[i + 4] ?? 0)}`;
        i += 4;
      } else break; // malformed: ignore the rest, as terminals do
    }
  }
  return s;
}

const sameStyle = (a: AnsiStyle, b: AnsiStyle): boolean =>
  a.fg === b.fg &&
  a.bg === b.bg &&
  a.bold === b.bold &&
  a.faint === b.faint &&
  a.italic === b.italic &&
  a.underline === b.underline &&
  a.inverse === b.inverse;

/**
 * One line of text into segments. `start` is the style carried over from earlier lines (terminals
 * keep SGR state across line breaks); the style at the end is returned with the segments.
 */
export function parseAnsi(text: string, start: AnsiStyle = {}): { segments: AnsiSegment[]; end: AnsiStyle } {
  const segments: AnsiSegment[] = [];
  let style = start;
  let last = 0;
  const push = (t: string): void => {
    if (t === "") return;
    const prev = segments.at(-1);
    if (prev && sameStyle(prev.style, style)) prev.text += t;
    else segments.push({ text: t, style });
  };
  if (!text.includes("\x1b")) {
    push(text);
    return { segments, end: style };
  }
  ESCAPE.lastIndex = 0;
  for (let m = ESCAPE.exec(text); m; m = ESCAPE.exec(text)) {
    push(text.slice(last, m.index));
    last = m.index + m[0].length;
    if (m[2] === "m" && m[1] !== undefined && !/[?<=>]/.test(m[1])) style = applySgr(style, m[1]);
    if (m[0] === "") {
      ESCAPE.lastIndex++;
      if (ESCAPE.lastIndex > text.length) break;
    }
  }
  push(text.slice(last));
  return { segments, end: style };
}

/** The text without any escape sequence (what search and copy see). */
export function stripAnsi(text: string): string {
  if (!text.includes("\x1b")) return text;
  return parseAnsi(text)
    .segments.map((s) => s.text)
    .join("");
}

/** CSS classes and CSSOM colours for a style (the named colours use the theme's classes). */
export function styleProps(style: AnsiStyle): { className: string; css: Record<string, string> } {
  const cls: string[] = [];
  const css: Record<string, string> = {};
  // Inverse swaps the colours; a missing one is the log's default (the class supplies it).
  const fg = style.inverse ? style.bg : style.fg;
  const bg = style.inverse ? style.fg : style.bg;
  if (style.inverse) cls.push("ansi-inverse");
  if (typeof fg === "number") cls.push(`ansi-fg-${fg}`);
  else if (typeof fg === "string") css.color = fg;
  if (typeof bg === "number") cls.push(`ansi-bg-${bg}`);
  else if (typeof bg === "string") css.backgroundColor = bg;
  if (style.bold) cls.push("ansi-bold");
  if (style.faint) cls.push("ansi-faint");
  if (style.italic) cls.push("ansi-italic");
  if (style.underline) cls.push("ansi-underline");
  return { className: cls.join(" "), css };
}
