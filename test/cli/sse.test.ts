// The hand-written SSE parser: fields, multi-line data, comments, CRLF, and events split
// across network chunks at every possible byte (including inside a UTF-8 character and a CRLF).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseSse, type SseEvent } from "../../src/cli/api/index.js";

function streamOf(parts: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      for (const p of parts) c.enqueue(p);
      c.close();
    },
  });
}

async function collect(parts: Uint8Array[]): Promise<SseEvent[]> {
  const out: SseEvent[] = [];
  for await (const e of parseSse(streamOf(parts))) out.push(e);
  return out;
}

const TEXT =
  ': comment\r\n\r\nid: 1:1\r\nevent: log\r\ndata: {"a":"é✓"}\r\n\r\n' +
  "data: line one\ndata:line two\n\n" +
  "retry: 10\nevent: end\ndata: {}\n\n" +
  "event: log\ndata: never closed";

const EXPECTED: SseEvent[] = [
  { event: "log", data: '{"a":"é✓"}', id: "1:1" },
  { event: "message", data: "line one\nline two", id: "1:1" },
  { event: "end", data: "{}", id: "1:1" },
];

describe("parseSse", () => {
  it("parses fields, joins data lines, keeps the last id, drops an unterminated event", async () => {
    assert.deepEqual(await collect([new TextEncoder().encode(TEXT)]), EXPECTED);
  });

  it("gives the same events however the bytes are split", async () => {
    const bytes = new TextEncoder().encode(TEXT);
    for (let cut = 1; cut < bytes.length; cut++) {
      const events = await collect([bytes.slice(0, cut), bytes.slice(cut)]);
      assert.deepEqual(events, EXPECTED, `split at byte ${cut}`);
    }
    const single = Array.from(bytes, (b) => Uint8Array.of(b));
    assert.deepEqual(await collect(single), EXPECTED);
  });

  it("treats a lone CR as a line end", async () => {
    const events = await collect([new TextEncoder().encode("event: x\rdata: y\r\r")]);
    assert.deepEqual(events, [{ event: "x", data: "y", id: undefined }]);
  });
});
