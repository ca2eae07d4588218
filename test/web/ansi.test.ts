// The log page's ANSI parser: SGR colours and attributes become styled segments, every other
// escape is dropped, and nothing of the text is lost or interpreted.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { applySgr, colour256, parseAnsi, stripAnsi, styleProps } from "../../web/src/lib/ansi.js";

const ESC = "\x1b";

describe("ANSI parser", () => {
  it("splits text at SGR codes into styled segments", () => {
    const { segments } = parseAnsi(`plain ${ESC}[31mred${ESC}[0m back`);
    assert.deepEqual(segments, [
      { text: "plain ", style: {} },
      { text: "red", style: { fg: 1 } },
      { text: " back", style: {} },
    ]);
  });

  it("reads bright, background, bold, italic, underline and their resets", () => {
    const { segments } = parseAnsi(`${ESC}[1;3;4;92;44mx${ESC}[22;23;24;39;49my`);
    assert.deepEqual(segments[0], {
      text: "x",
      style: { bold: true, italic: true, underline: true, fg: 10, bg: 4 },
    });
    assert.deepEqual(segments[1], { text: "y", style: {} });
  });

  it("reads 256-colour and truecolour, both ; and : forms", () => {
    assert.equal(parseAnsi(`${ESC}[38;5;196mx`).segments[0]?.style.fg, "#ff0000");
    assert.equal(parseAnsi(`${ESC}[48;5;3mx`).segments[0]?.style.bg, 3);
    assert.equal(parseAnsi(`${ESC}[38;5;232mx`).segments[0]?.style.fg, "#080808");
    assert.equal(parseAnsi(`${ESC}[38;2;10;20;300mx`).segments[0]?.style.fg, "#0a14ff");
    assert.equal(parseAnsi(`${ESC}[48:2:1:2:3mx`).segments[0]?.style.bg, "#010203");
    assert.equal(colour256(16), "#000000");
    assert.equal(colour256(231), "#ffffff");
  });

  it("treats an empty SGR as a reset and ignores malformed extended colours", () => {
    assert.deepEqual(parseAnsi(`${ESC}[31ma${ESC}[mb`).segments[1], { text: "b", style: {} });
    assert.deepEqual(applySgr({ bold: true }, "38;5"), { bold: true });
  });

  it("drops cursor moves, OSC titles and other escapes without showing them", () => {
    const text = `${ESC}[2K${ESC}[1Gline${ESC}]0;title${ESC}\\ end${ESC}]8;;http://x\x07${ESC}(B!`;
    assert.equal(stripAnsi(text), "line end!");
    assert.equal(stripAnsi(`a${ESC}`), "a");
  });

  it("carries the style over to the next line", () => {
    const first = parseAnsi(`${ESC}[32mgreen`);
    const second = parseAnsi("still", first.end);
    assert.deepEqual(second.segments, [{ text: "still", style: { fg: 2 } }]);
  });

  it("keeps markup-looking text as text", () => {
    const hostile = `<img src=x onerror=window.__xss=1>${ESC}[31m<script>`;
    assert.equal(stripAnsi(hostile), "<img src=x onerror=window.__xss=1><script>");
  });

  it("gives classes for named colours and CSSOM colours for the others", () => {
    assert.deepEqual(styleProps({ fg: 1, bold: true }), { className: "ansi-fg-1 ansi-bold", css: {} });
    assert.deepEqual(styleProps({ fg: "#ff0000", bg: 4 }), {
      className: "ansi-bg-4",
      css: { color: "#ff0000" },
    });
    assert.deepEqual(styleProps({ fg: 1, inverse: true }), {
      className: "ansi-inverse ansi-bg-1",
      css: {},
    });
  });
});
