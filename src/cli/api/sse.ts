// A hand-written server-sent events parser over a fetch body stream (the WHATWG event-stream
// format: `event:`, `data:` (joined by newlines), `id:`, `:` comments, a blank line dispatches).

export interface SseEvent {
  event: string;
  data: string;
  /** The last `id:` seen so far in the stream (ids persist across events, as in EventSource). */
  id: string | undefined;
}

export async function* parseSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = "";
  let event = "";
  let data: string[] = [];
  let id: string | undefined;
  const reader = body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      // A trailing "\r" may be the first half of "\r\n": keep it until more arrives (or the end).
      const eol = done ? /\r\n|\r|\n/ : /\r\n|\r(?!$)|\n/;
      for (let m = eol.exec(buffer); m; m = eol.exec(buffer)) {
        const line = buffer.slice(0, m.index);
        buffer = buffer.slice(m.index + m[0].length);
        if (line === "") {
          if (data.length > 0) yield { event: event || "message", data: data.join("\n"), id };
          event = "";
          data = [];
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "event") event = value;
        else if (field === "data") data.push(value);
        else if (field === "id" && !value.includes("\0")) id = value;
      }
      // An event not closed by a blank line when the stream ends is discarded, as the spec says.
      if (done) return;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
