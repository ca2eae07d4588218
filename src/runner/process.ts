// Runs one process in the machine and turns its output into lines: stdout and stderr are decoded
// as UTF-8 and split on "\n" (a trailing "\r" is dropped); a partial last line is flushed at exit.
// The process is killed when `signal` aborts (step timeout, job timeout, cancellation).
import { StringDecoder } from "node:string_decoder";
import type { Readable } from "node:stream";
import type { ExecRequest, Machine } from "../provisioners/types.js";

export interface ProcessOutcome {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process was killed because `signal` aborted. */
  aborted: boolean;
  /** Set when the process could not be started at all. */
  startError?: string;
}

export type LineHandler = (stream: "stdout" | "stderr", line: string) => void;

export async function runProcess(
  machine: Machine,
  req: ExecRequest,
  signal: AbortSignal,
  onLine: LineHandler,
): Promise<ProcessOutcome> {
  if (signal.aborted) return { exitCode: null, signal: null, aborted: true };
  let handle;
  try {
    handle = machine.exec(req);
  } catch (err) {
    return { exitCode: null, signal: null, aborted: false, startError: (err as Error).message };
  }
  let aborted = false;
  const onAbort = (): void => {
    aborted = true;
    handle.kill();
  };
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    const streams = [pump(handle.stdout, "stdout", onLine), pump(handle.stderr, "stderr", onLine)];
    const result = await handle.wait();
    await Promise.all(streams);
    return { exitCode: result.exitCode, signal: result.signal, aborted };
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

function pump(stream: Readable, name: "stdout" | "stderr", onLine: LineHandler): Promise<void> {
  const decoder = new StringDecoder("utf8");
  let buf = "";
  const emit = (line: string): void => onLine(name, line.endsWith("\r") ? line.slice(0, -1) : line);
  return new Promise((resolve) => {
    stream.on("data", (chunk: Buffer | string) => {
      buf += typeof chunk === "string" ? chunk : decoder.write(chunk);
      let nl = buf.indexOf("\n");
      while (nl >= 0) {
        emit(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        nl = buf.indexOf("\n");
      }
    });
    let finished = false;
    const done = (): void => {
      if (finished) return;
      finished = true;
      buf += decoder.end();
      if (buf !== "") emit(buf);
      buf = "";
      resolve();
    };
    stream.once("end", done);
    stream.once("close", done);
    stream.once("error", done);
  });
}
