// What one rendered log line is made of: its ANSI segments split where search matches start and
// end, each piece marked as plain, a match, or the current match. Pure data for the log view.
import { parseAnsi, type AnsiStyle } from "./ansi.js";
import { matchRanges } from "./log-model.js";

export interface Piece {
  text: string;
  style: AnsiStyle;
  /** 0: no match, 1: a match, 2: the current match. */
  mark: 0 | 1 | 2;
}

/**
 * The pieces of a raw line: `query` highlights every occurrence (over the text without escapes,
 * as the model's search counts them), `current` is the index of the current one in this line.
 */
export function linePieces(raw: string, query = "", current = -1, caseSensitive = false): Piece[] {
  const { segments } = parseAnsi(raw);
  const text = segments.map((s) => s.text).join("");
  const ranges = query ? matchRanges(text, query, caseSensitive) : [];
  if (ranges.length === 0) return segments.map((s) => ({ text: s.text, style: s.style, mark: 0 }));
  const out: Piece[] = [];
  let offset = 0;
  for (const seg of segments) {
    const start = offset;
    const end = offset + seg.text.length;
    let p = start;
    while (p < end) {
      const ri = ranges.findIndex(([a, b]) => b > p && a < end);
      const r = ri >= 0 ? ranges[ri] : undefined;
      if (!r || r[0] >= end) {
        out.push({ text: seg.text.slice(p - start), style: seg.style, mark: 0 });
        break;
      }
      if (r[0] > p) {
        out.push({ text: seg.text.slice(p - start, r[0] - start), style: seg.style, mark: 0 });
        p = r[0];
      }
      const stop = Math.min(r[1], end);
      out.push({
        text: seg.text.slice(p - start, stop - start),
        style: seg.style,
        mark: ri === current ? 2 : 1,
      });
      p = stop;
    }
    offset = end;
  }
  return out;
}

/** "10:00:01.250" from an ISO time (UTC, as the server stores it). */
export function shortTime(iso: string | undefined): string {
  if (!iso) return "";
  const m = /T(\d\d:\d\d:\d\d(?:\.\d{1,3})?)/.exec(iso);
  return m?.[1] ?? "";
}
