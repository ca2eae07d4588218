// The guest's serial console, written to the machine's console.log with a fixed bound. QEMU's own
// `file` chardev grows without limit, so a guest printing forever (a job that is root inside its
// machine can write to /dev/ttyS0 or the kernel log) could fill the host disk. QEMU writes the
// console to its stdout instead; this keeps the first HEAD bytes on disk as they come (boot errors
// are read from there), then only the last TAIL bytes in memory, written after a truncation marker
// when the log is closed. The file never exceeds HEAD + TAIL + the marker.
import { closeSync, openSync, writeSync } from "node:fs";

export const CONSOLE_HEAD_BYTES = 768 * 1024;
export const CONSOLE_TAIL_BYTES = 256 * 1024;

export class BoundedLog {
  private fd: number | undefined;
  private written = 0;
  private tail: Buffer[] = [];
  private tailLen = 0;
  /** Bytes neither in the head nor in the kept tail. */
  private dropped = 0;

  constructor(
    file: string,
    private readonly head = CONSOLE_HEAD_BYTES,
    private readonly tailMax = CONSOLE_TAIL_BYTES,
  ) {
    this.fd = openSync(file, "w", 0o600);
  }

  write(b: Buffer): void {
    if (this.fd === undefined) return;
    const room = this.head - this.written;
    if (room > 0) {
      const part = b.subarray(0, room);
      writeSync(this.fd, part);
      this.written += part.length;
      b = b.subarray(part.length);
    }
    if (b.length === 0) return;
    this.tail.push(Buffer.from(b));
    this.tailLen += b.length;
    while (this.tailLen > this.tailMax) {
      const first = this.tail[0]!;
      const over = this.tailLen - this.tailMax;
      if (first.length <= over) {
        this.tail.shift();
        this.tailLen -= first.length;
        this.dropped += first.length;
      } else {
        this.tail[0] = first.subarray(over);
        this.tailLen -= over;
        this.dropped += over;
      }
    }
  }

  /** Bytes this log holds (on disk and in memory); at most head + tail. */
  get heldBytes(): number {
    return this.written + this.tailLen;
  }

  /** Writes the marker and the kept tail, then closes the file; idempotent. */
  close(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    try {
      if (this.dropped > 0) {
        writeSync(fd, `\n[airlock: ${this.dropped} bytes of console output dropped]\n`);
      }
      for (const b of this.tail) writeSync(fd, b);
    } finally {
      closeSync(fd);
      this.tail = [];
      this.tailLen = 0;
    }
  }
}
