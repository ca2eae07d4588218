// A job's log in the browser, built for a 50 MiB log (≈ 1 M lines): the chunks' text is kept as
// it came (one string per chunk) and every line is a few numbers in growable typed arrays (its
// chunk, start and end offsets, style, step section and group): no object or DOM node per line.
// Lines are indexed incrementally as chunks arrive (paged or live). On top of that: step sections
// (a `step` line opens one, the next ok/bad/skip line closes it), `::group::` folding (a `group`
// line opens, a `group-end` chunk closes), the list of visible lines with folds applied, the
// mapping of line numbers and chunk positions to rows, and search over the raw text.
import { stripAnsi } from "./ansi.js";

export interface LogChunkIn {
  attempt: number;
  seq: number;
  data: string;
  source?: string;
  style?: string | null;
  time?: string;
}

export const LINE_STYLES = [
  "log",
  "step",
  "group",
  "debug",
  "error",
  "warning",
  "notice",
  "ok",
  "bad",
  "skip",
  "plain",
] as const;
export type LineStyle = (typeof LINE_STYLES)[number];
const STYLE_CODE = new Map<string, number>(LINE_STYLES.map((s, i) => [s, i]));

export interface LogSection {
  /** The step's title as its `▶` line shows it ("Build", "post: Checkout"). */
  title: string;
  headerLine: number;
  /** Exclusive; -1 while the step runs. */
  endLine: number;
  conclusion: string | null;
  /** "1.2s" as the runner wrote it, when it did. */
  duration: string | null;
}

export interface LogGroup {
  headerLine: number;
  /** Exclusive; -1 while open. */
  endLine: number;
}

export interface SearchResult {
  query: string;
  /** The line of each match (0-based), in order. */
  lines: Int32Array;
  /** Which occurrence within its line each match is (0-based). */
  nth: Int32Array;
  count: number;
  /** More matches exist than were kept (MAX_MATCHES). */
  capped: boolean;
}

export const MAX_MATCHES = 1_000_000;

class IntList {
  a: Int32Array;
  n = 0;
  constructor(cap = 1024) {
    this.a = new Int32Array(cap);
  }
  push(v: number): void {
    if (this.n === this.a.length) {
      const b = new Int32Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }
  get(i: number): number {
    return this.a[i] ?? -1;
  }
  set(i: number, v: number): void {
    this.a[i] = v;
  }
  view(): Int32Array {
    return this.a.subarray(0, this.n);
  }
}

const RESULT_RE = /\s(success|failure|cancelled|skipped)(?: \(outcome \w+\))? \[([\d.]+s)\]\s*$/;

export class LogModel {
  private data: string[] = [];
  private times: Array<string | undefined> = [];
  private cAttempt = new IntList();
  private cSeq = new IntList();
  private cFirstLine = new IntList();
  private lChunk = new IntList(4096);
  private lStart = new IntList(4096);
  private lEnd = new IntList(4096);
  private lStyle = new IntList(4096);
  private lSection = new IntList(4096);
  private lGroup = new IntList(4096);
  readonly sections: LogSection[] = [];
  readonly groups: LogGroup[] = [];
  private openSection = -1;
  private openGroup = -1;
  /** User choices (true: open); absent: the default (failed or running steps open, groups closed). */
  private sectionFold = new Map<number, boolean>();
  private groupFold = new Map<number, boolean>();
  private visibleCache: Int32Array | undefined;
  /** Bumped by every change (new lines, a fold): renderers compare it. */
  version = 0;
  bytes = 0;

  get lineCount(): number {
    return this.lChunk.n;
  }

  get chunkCount(): number {
    return this.data.length;
  }

  /** The last position stored ("<attempt>:<seq>"), for paging and resuming. */
  get lastPosition(): { attempt: number; seq: number } | undefined {
    const n = this.data.length;
    return n === 0 ? undefined : { attempt: this.cAttempt.get(n - 1), seq: this.cSeq.get(n - 1) };
  }

  /** Adds a chunk; one at or before the last position (a resent one) is ignored: returns false. */
  append(c: LogChunkIn): boolean {
    const last = this.lastPosition;
    if (last && (c.attempt < last.attempt || (c.attempt === last.attempt && c.seq <= last.seq))) return false;
    const k = this.data.length;
    this.data.push(c.data);
    this.times.push(c.time);
    this.cAttempt.push(c.attempt);
    this.cSeq.push(c.seq);
    this.cFirstLine.push(this.lineCount);
    this.bytes += c.data.length;
    const style = c.style ?? "plain";
    if (style === "group-end") {
      this.closeGroup(this.lineCount);
    } else {
      const code = STYLE_CODE.get(style) ?? STYLE_CODE.get("plain") ?? 0;
      const d = c.data;
      let start = 0;
      let first = true;
      while (start < d.length) {
        let end = d.indexOf("\n", start);
        if (end < 0) end = d.length;
        this.addLine(k, start, end, code, style as LineStyle, first);
        first = false;
        start = end + 1;
      }
    }
    this.version++;
    this.visibleCache = undefined;
    return true;
  }

  private addLine(chunk: number, start: number, end: number, code: number, style: LineStyle, first: boolean) {
    const i = this.lineCount;
    if (first && style === "step") {
      this.closeGroup(i);
      if (this.openSection >= 0) this.endSection(i, null, null);
      this.openSection = this.sections.length;
      const title = stripAnsi(this.data[chunk]?.slice(start, end) ?? "").replace(/^▶\s?/, "");
      this.sections.push({
        title: title.trimEnd(),
        headerLine: i,
        endLine: -1,
        conclusion: null,
        duration: null,
      });
    } else if (first && style === "group") {
      this.closeGroup(i);
      this.openGroup = this.groups.length;
      this.groups.push({ headerLine: i, endLine: -1 });
    } else if (first && (style === "ok" || style === "bad" || style === "skip") && this.openSection >= 0) {
      this.closeGroup(i);
    }
    this.lChunk.push(chunk);
    this.lStart.push(start);
    this.lEnd.push(end > start && this.data[chunk]?.charCodeAt(end - 1) === 13 ? end - 1 : end);
    this.lStyle.push(code);
    this.lSection.push(this.openSection);
    this.lGroup.push(this.openGroup);
    if (first && (style === "ok" || style === "bad" || style === "skip") && this.openSection >= 0) {
      const m = RESULT_RE.exec(stripAnsi(this.lineText(i)));
      const conclusion = m?.[1] ?? (style === "ok" ? "success" : style === "skip" ? "skipped" : "failure");
      this.endSection(i + 1, conclusion, m?.[2] ?? null);
    }
  }

  private endSection(end: number, conclusion: string | null, duration: string | null): void {
    const s = this.sections[this.openSection];
    if (s) {
      s.endLine = end;
      s.conclusion = conclusion;
      s.duration = duration;
    }
    this.openSection = -1;
  }

  private closeGroup(end: number): void {
    const g = this.groups[this.openGroup];
    if (g) g.endLine = end;
    this.openGroup = -1;
  }

  /** The line's raw text (with its ANSI escapes, without its line break). */
  lineText(i: number): string {
    return this.data[this.lChunk.get(i)]?.slice(this.lStart.get(i), this.lEnd.get(i)) ?? "";
  }

  lineStyle(i: number): LineStyle {
    return LINE_STYLES[this.lStyle.get(i)] ?? "plain";
  }

  /** When the line was written (its chunk's time), if known. */
  lineTime(i: number): string | undefined {
    return this.times[this.lChunk.get(i)];
  }

  lineSection(i: number): number {
    return this.lSection.get(i);
  }

  lineGroup(i: number): number {
    return this.lGroup.get(i);
  }

  /** The first line of the chunk at a position (annotation links), or undefined. */
  lineOfPosition(attempt: number, seq: number): number | undefined {
    let lo = 0;
    let hi = this.data.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const a = this.cAttempt.get(mid);
      const s = this.cSeq.get(mid);
      if (a === attempt && s === seq) {
        const line = this.cFirstLine.get(mid);
        const next = mid + 1 < this.data.length ? this.cFirstLine.get(mid + 1) : this.lineCount;
        return line < next ? line : undefined;
      }
      if (a < attempt || (a === attempt && s < seq)) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  // Folding ----------------------------------------------------------------------------------

  sectionOpen(s: number): boolean {
    const chosen = this.sectionFold.get(s);
    if (chosen !== undefined) return chosen;
    const sec = this.sections[s];
    if (!sec) return false;
    return sec.endLine < 0 || (sec.conclusion !== "success" && sec.conclusion !== "skipped");
  }

  groupOpen(g: number): boolean {
    return this.groupFold.get(g) ?? false;
  }

  setSectionOpen(s: number, open: boolean): void {
    this.sectionFold.set(s, open);
    this.visibleCache = undefined;
    this.version++;
  }

  setGroupOpen(g: number, open: boolean): void {
    this.groupFold.set(g, open);
    this.visibleCache = undefined;
    this.version++;
  }

  /** Opens whatever folds hide a line (a line link, a search match). */
  reveal(line: number): void {
    const s = this.lineSection(line);
    if (s >= 0 && this.sections[s]?.headerLine !== line && !this.sectionOpen(s)) this.setSectionOpen(s, true);
    const g = this.lineGroup(line);
    if (g >= 0 && this.groups[g]?.headerLine !== line && !this.groupOpen(g)) this.setGroupOpen(g, true);
  }

  /** The lines shown with the folds applied, in order (cached until the next change). */
  visible(): Int32Array {
    if (this.visibleCache) return this.visibleCache;
    const n = this.lineCount;
    const out = new IntList(Math.max(1024, Math.min(n, 1 << 20)));
    let i = 0;
    while (i < n) {
      const s = this.lSection.get(i);
      const sec = s >= 0 ? this.sections[s] : undefined;
      if (sec && sec.headerLine === i && !this.sectionOpen(s)) {
        out.push(i);
        i = sec.endLine < 0 ? n : sec.endLine;
        continue;
      }
      const g = this.lGroup.get(i);
      const grp = g >= 0 ? this.groups[g] : undefined;
      if (grp && grp.headerLine === i && !this.groupOpen(g)) {
        out.push(i);
        i = grp.endLine < 0 ? n : grp.endLine;
        continue;
      }
      out.push(i);
      i++;
    }
    this.visibleCache = out.view();
    return this.visibleCache;
  }

  /** The row (index into visible()) showing a line, or the nearest row before it when folded. */
  rowOfLine(line: number): number {
    const v = this.visible();
    let lo = 0;
    let hi = v.length - 1;
    let best = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if ((v[mid] ?? 0) <= line) {
        best = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return best;
  }

  // Search -----------------------------------------------------------------------------------

  /**
   * Every occurrence of `query` in the log (not only the lines shown), over the text without ANSI
   * escapes; case-insensitive unless `caseSensitive`. Runs over each chunk's raw text with
   * indexOf and maps offsets to lines by binary search: a 50 MiB log takes a fraction of a second.
   */
  search(query: string, caseSensitive = false): SearchResult {
    const lines = new IntList();
    const nth = new IntList();
    let capped = false;
    const q = caseSensitive ? query : query.toLowerCase();
    if (q === "" || q.includes("\n"))
      return { query, lines: lines.view(), nth: nth.view(), count: 0, capped };
    const addLine = (line: number, text: string): boolean => {
      const hay = caseSensitive ? text : text.toLowerCase();
      let n = 0;
      for (let p = hay.indexOf(q); p >= 0; p = hay.indexOf(q, p + q.length)) {
        if (lines.n >= MAX_MATCHES) return false;
        lines.push(line);
        nth.push(n++);
      }
      return true;
    };
    outer: for (let k = 0; k < this.data.length; k++) {
      const d = this.data[k] ?? "";
      const first = this.cFirstLine.get(k);
      const last = k + 1 < this.data.length ? this.cFirstLine.get(k + 1) : this.lineCount;
      if (first >= last) continue;
      const hay = caseSensitive ? d : d.toLowerCase();
      if (d.includes("\x1b") || d.includes("\r") || hay.length !== d.length) {
        for (let i = first; i < last; i++) if (!addLine(i, stripAnsi(this.lineText(i)))) break outer;
        continue;
      }
      let line = first;
      let prevLine = -1;
      let n = 0;
      for (let p = hay.indexOf(q); p >= 0; p = hay.indexOf(q, p + q.length)) {
        while (line + 1 < last && this.lStart.get(line + 1) <= p) line++;
        if (p + q.length > this.lEnd.get(line)) continue; // spans a line break
        if (lines.n >= MAX_MATCHES) {
          capped = true;
          break outer;
        }
        n = line === prevLine ? n + 1 : 0;
        prevLine = line;
        lines.push(line);
        nth.push(n);
      }
    }
    if (lines.n >= MAX_MATCHES) capped = true;
    return { query, lines: lines.view(), nth: nth.view(), count: lines.n, capped };
  }
}

/** Where a URL hash points: "#L12", "#L12-L20" (1-based lines), "#S<attempt>-<seq>" (a chunk). */
export type LogTarget =
  { kind: "lines"; from: number; to: number } | { kind: "chunk"; attempt: number; seq: number } | undefined;

export function parseLogHash(hash: string): LogTarget {
  const h = hash.replace(/^#/, "");
  let m = /^L(\d{1,9})(?:-L?(\d{1,9}))?$/.exec(h);
  if (m) {
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (a < 1) return undefined;
    return { kind: "lines", from: Math.min(a, b), to: Math.max(a, b, 1) };
  }
  m = /^S(\d{1,9})-(\d{1,9})$/.exec(h);
  if (m) return { kind: "chunk", attempt: Number(m[1]), seq: Number(m[2]) };
  return undefined;
}

/** The stretches of a line's (escape-free) text that match a query: [start, end) pairs. */
export function matchRanges(text: string, query: string, caseSensitive = false): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  if (query === "") return out;
  const hay = caseSensitive ? text : text.toLowerCase();
  const q = caseSensitive ? query : query.toLowerCase();
  if (hay.length !== text.length) return out;
  for (let p = hay.indexOf(q); p >= 0; p = hay.indexOf(q, p + q.length)) out.push([p, p + q.length]);
  return out;
}
