// Reads a tar or tar.gz stream with tar-stream, counting the compressed bytes on the way in so the
// expansion ratio can be held to the bytes really produced. tar-stream itself bounds long-name and
// pax headers (4 MiB) and verifies each header's checksum; a truncated archive or gzip stream
// surfaces as an error here, mapped to a refusal.
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import tar from "tar-stream";
import { corrupt } from "./reject.js";
import type { RawEntry } from "./types.js";

/** Counts bytes going through: the compressed side of a tar.gz. */
export class ByteCounter extends Transform {
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: (err: null, data: Buffer) => void): void {
    this.bytes += chunk.length;
    done(null, chunk);
  }
}

export async function* readTar(
  input: Readable,
  gzip: boolean,
  counter: ByteCounter,
): AsyncGenerator<RawEntry> {
  const extract = tar.extract();
  const stages = gzip ? [input, counter, createGunzip(), extract] : [input, counter, extract];
  let failure: Error | undefined;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const piped = pipeline(stages as [any, any]).catch((err: unknown) => {
    failure = err instanceof Error ? err : new Error("the tar stream failed");
  });
  let name = "";
  try {
    for await (const entry of extract) {
      const h = entry.header;
      name = h.name;
      yield {
        name: h.name,
        kind: h.type === "contiguous-file" ? "file" : (h.type ?? "unknown"),
        mode: h.mode === undefined ? null : h.mode & 0o7777,
        declaredSize: h.size ?? 0,
        linkName: h.type === "symlink" || h.type === "link" ? (h.linkname ?? "") : undefined,
        body: entry as AsyncIterable<Buffer>,
      };
    }
    name = "";
    await piped;
    if (failure !== undefined) throw failure;
  } catch (err) {
    throw corrupt(err, name);
  } finally {
    extract.destroy();
    input.destroy();
  }
}
