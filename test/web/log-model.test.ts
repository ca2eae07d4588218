// The job log page's model: chunks → lines (offsets only), step sections with conclusions and
// durations, ::group:: folding, visible rows, line-number and chunk-position mapping, search.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LogModel, matchRanges, parseLogHash, type LogChunkIn } from "../../web/src/lib/log-model.js";

let seq = 0;
const c = (data: string, style: string | null = "log", attempt = 1): LogChunkIn => ({
  attempt,
  seq: ++seq,
  data,
  source: "step",
  style,
  time: "2026-12-03T10:00:00.000Z",
});

/** A job with a passing step (holding a group) and a failing one. */
function jobLog(): LogModel {
  const m = new LogModel();
  m.append(c("Job started on node n1\n", null)); // 0
  m.append(c("▶ Build\n", "step")); // 1
  m.append(c("  ▸ Install\n", "group")); // 2
  m.append(c("  | a\n  | b\n")); // 3, 4
  m.append(c("", "group-end"));
  m.append(c("  | after group\n")); // 5
  m.append(c("✓ Build success [1.5s]\n", "ok")); // 6
  m.append(c("▶ Test\n", "step")); // 7
  m.append(c("  | \x1b[31mFAIL\x1b[0m one\n")); // 8
  m.append(c("  error: tests failed\n", "error")); // 9
  m.append(c("✗ Test failure [0.3s]\n", "bad")); // 10
  m.append(c("Job failure\n", "bad")); // 11
  return m;
}

describe("log model", () => {
  it("splits chunks into lines, one per line break, with style and time", () => {
    const m = jobLog();
    assert.equal(m.lineCount, 12);
    assert.equal(m.lineText(3), "  | a");
    assert.equal(m.lineText(4), "  | b");
    assert.equal(m.lineStyle(9), "error");
    assert.equal(m.lineStyle(0), "plain");
    assert.equal(m.lineTime(4), "2026-12-03T10:00:00.000Z");
    const w = new LogModel();
    w.append(c("crlf\r\nlast without break", "log"));
    assert.deepEqual([w.lineText(0), w.lineText(1)], ["crlf", "last without break"]);
  });

  it("ignores a chunk at or before the last position (backlog resent by the stream)", () => {
    const m = new LogModel();
    assert.equal(m.append({ attempt: 1, seq: 5, data: "x\n" }), true);
    assert.equal(m.append({ attempt: 1, seq: 5, data: "x\n" }), false);
    assert.equal(m.append({ attempt: 1, seq: 3, data: "old\n" }), false);
    assert.equal(m.append({ attempt: 2, seq: 1, data: "retry\n" }), true);
    assert.equal(m.lineCount, 2);
    assert.deepEqual(m.lastPosition, { attempt: 2, seq: 1 });
  });

  it("makes a section per step with its conclusion and duration", () => {
    const m = jobLog();
    assert.deepEqual(
      m.sections.map((s) => [s.title, s.headerLine, s.endLine, s.conclusion, s.duration]),
      [
        ["Build", 1, 7, "success", "1.5s"],
        ["Test", 7, 11, "failure", "0.3s"],
      ],
    );
    assert.equal(m.lineSection(11), -1, "the job's last line is outside the steps");
    assert.equal(m.lineSection(0), -1);
  });

  it("keeps a running step open and its section unfinished", () => {
    const m = new LogModel();
    m.append(c("▶ Long\n", "step"));
    m.append(c("  | working\n"));
    assert.equal(m.sections[0]?.endLine, -1);
    assert.equal(m.sectionOpen(0), true);
    assert.deepEqual([...m.visible()], [0, 1]);
  });

  it("folds passed steps and groups by default and opens failed steps", () => {
    const m = jobLog();
    assert.equal(m.sectionOpen(0), false);
    assert.equal(m.sectionOpen(1), true);
    assert.deepEqual([...m.visible()], [0, 1, 7, 8, 9, 10, 11]);
    m.setSectionOpen(0, true);
    assert.deepEqual([...m.visible()], [0, 1, 2, 5, 6, 7, 8, 9, 10, 11], "the group stays folded");
    m.setGroupOpen(0, true);
    assert.deepEqual([...m.visible()], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    m.setSectionOpen(1, false);
    assert.deepEqual([...m.visible()], [0, 1, 2, 3, 4, 5, 6, 7, 11]);
  });

  it("reveals the folds hiding a line and maps lines to rows", () => {
    const m = jobLog();
    assert.equal(m.rowOfLine(4), 1, "a hidden line maps to the row before it");
    m.reveal(4);
    assert.equal(m.sectionOpen(0), true);
    assert.equal(m.groupOpen(0), true);
    assert.equal(m.rowOfLine(4), 4);
    assert.equal(m.visible()[m.rowOfLine(4)], 4);
  });

  it("closes an open group when a step ends or another group starts", () => {
    const m = new LogModel();
    m.append(c("▶ S\n", "step"));
    m.append(c("  ▸ g1\n", "group"));
    m.append(c("  | x\n"));
    m.append(c("  ▸ g2\n", "group"));
    m.append(c("  | y\n"));
    m.append(c("✓ S success [0.1s]\n", "ok"));
    assert.deepEqual(
      m.groups.map((g) => [g.headerLine, g.endLine]),
      [
        [1, 3],
        [3, 5],
      ],
    );
    assert.equal(m.lineGroup(5), -1);
  });

  it("finds the first line of a chunk position (annotation links)", () => {
    const m = new LogModel();
    m.append({ attempt: 1, seq: 1, data: "a\nb\n" });
    m.append({ attempt: 1, seq: 2, data: "", style: "group-end" });
    m.append({ attempt: 1, seq: 7, data: "c\n" });
    m.append({ attempt: 2, seq: 1, data: "d\n" });
    assert.equal(m.lineOfPosition(1, 1), 0);
    assert.equal(m.lineOfPosition(1, 7), 2);
    assert.equal(m.lineOfPosition(2, 1), 3);
    assert.equal(m.lineOfPosition(1, 3), undefined);
    assert.equal(m.lineOfPosition(1, 2), undefined, "an empty chunk has no line");
  });

  it("searches the whole log, folded lines included, case-insensitively and without escapes", () => {
    const m = jobLog();
    const r = m.search("fail");
    // "FAIL one" (escapes stripped), "tests failed", "Test failure", "Job failure"
    assert.deepEqual([...r.lines], [8, 9, 10, 11]);
    assert.equal(r.count, 4);
    const inFold = m.search("| B");
    assert.deepEqual([...inFold.lines], [4]);
    assert.deepEqual([...m.search("FAIL", true).lines], [8]);
    assert.equal(m.search("").count, 0);
    const twice = new LogModel();
    twice.append(c("aXa aXa\nno\naXa\n"));
    const t = twice.search("axa");
    assert.deepEqual([...t.lines], [0, 0, 2]);
    assert.deepEqual([...t.nth], [0, 1, 0]);
    assert.equal(twice.search("a\nno").count, 0, "no match across lines");
    assert.equal(twice.search("o\na").count, 0);
  });

  it("indexes a large log incrementally and searches it", () => {
    const m = new LogModel();
    const lines = 200_000;
    const per = 1000;
    let s = 0;
    for (let k = 0; k < lines / per; k++) {
      let d = "";
      for (let i = 0; i < per; i++) d += `line ${k * per + i} some output\n`;
      m.append({ attempt: 1, seq: ++s, data: d, style: "log" });
    }
    assert.equal(m.lineCount, lines);
    assert.equal(m.lineText(123_456), "line 123456 some output");
    assert.equal(m.visible().length, lines);
    const r = m.search("line 199999 ");
    assert.deepEqual([...r.lines], [199_999]);
  });

  it("parses line and chunk hashes", () => {
    assert.deepEqual(parseLogHash("#L120"), { kind: "lines", from: 120, to: 120 });
    assert.deepEqual(parseLogHash("#L130-L120"), { kind: "lines", from: 120, to: 130 });
    assert.deepEqual(parseLogHash("#S2-15"), { kind: "chunk", attempt: 2, seq: 15 });
    assert.equal(parseLogHash("#L0"), undefined);
    assert.equal(parseLogHash("#Lx"), undefined);
    assert.equal(parseLogHash(""), undefined);
  });

  it("gives the match ranges within a line", () => {
    assert.deepEqual(matchRanges("Foo foo", "foo"), [
      [0, 3],
      [4, 7],
    ]);
    assert.deepEqual(matchRanges("Foo foo", "foo", true), [[4, 7]]);
  });
});

describe("log line pieces", () => {
  it("splits ANSI segments at search matches and marks the current one", async () => {
    const { linePieces, shortTime } = await import("../../web/src/lib/log-render.js");
    const pieces = linePieces("ab\x1b[31mcab\x1b[0mab", "ab", 1);
    assert.deepEqual(
      pieces.map((p) => [p.text, p.style.fg ?? null, p.mark]),
      [
        ["ab", null, 1],
        ["c", 1, 0],
        ["ab", 1, 2],
        ["ab", null, 1],
      ],
    );
    const across = linePieces("x\x1b[1mAB\x1b[0mCy", "bc");
    assert.deepEqual(
      across.map((p) => [p.text, p.mark]),
      [
        ["x", 0],
        ["A", 0],
        ["B", 1],
        ["C", 1],
        ["y", 0],
      ],
    );
    assert.deepEqual(linePieces("<b>", "zz"), [{ text: "<b>", style: {}, mark: 0 }]);
    assert.equal(shortTime("2026-12-03T10:00:01.250Z"), "10:00:01.250");
  });
});
