// The bytes between Airlock and the helper on an SSH host (helper.ts). Requests: the helper's
// source, then fields, each as 8 hex digits of length and the bytes — any bytes, NUL and newlines
// included, so argv, env and paths arrive exactly as sent. Replies: frames of one type byte, a
// 32-bit big-endian length and the payload.
import { HELPER_SOURCE } from "./helper.js";

const source = Buffer.from(HELPER_SOURCE, "utf8");

function field(value: string | Uint8Array): Buffer {
  const bytes = typeof value === "string" ? Buffer.from(value, "utf8") : Buffer.from(value);
  if (bytes.length > 0xffffffff) throw new RangeError("field too large");
  return Buffer.concat([Buffer.from(bytes.length.toString(16).padStart(8, "0"), "ascii"), bytes]);
}

/** The whole request header: helper source, op, machine base and id, then the op's own fields. */
export function request(
  op: "mk" | "w" | "r" | "c" | "x" | "d",
  base: string,
  id: string,
  fields: readonly (string | Uint8Array)[] = [],
): Buffer {
  return Buffer.concat([field(source), ...[op, base, id, ...fields].map(field)]);
}

/** The fields of an exec: cwd, argv (counted), env pairs (counted). */
export function execFields(argv: readonly string[], env: Record<string, string>, cwd: string): string[] {
  const pairs = Object.entries(env);
  return [cwd, String(argv.length), ...argv, String(pairs.length), ...pairs.flat()].map(String);
}

export interface Frame {
  type: string;
  data: Buffer;
}

/** Splits the helper's stdout into frames; feed it chunks, it calls `onFrame` per whole frame. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly onFrame: (f: Frame) => void) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    while (this.buf.length >= 5) {
      const len = this.buf.readUInt32BE(1);
      if (this.buf.length < 5 + len) break;
      const type = String.fromCharCode(this.buf[0]!);
      const data = this.buf.subarray(5, 5 + len);
      this.buf = this.buf.subarray(5 + len);
      this.onFrame({ type, data });
    }
  }

  /** Bytes left over that are no whole frame (a login script that prints, a cut connection). */
  get pending(): number {
    return this.buf.length;
  }
}
