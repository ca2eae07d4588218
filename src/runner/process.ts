// Runs one process in the machine and turns its output into lines: stdout and stderr are decoded
// as UTF-8 and split on "\n" (a trailing "\r" is dropped); a partial last line is flushed at exit.
// The process is killed when `signal` aborts (step timeout, job timeout, cancellation).
//
// Hostile output stays cheap: a line longer than MAX_LINE_CHARS is cut (the handler learns how many
// characters were dropped) so a 100 MB line without a newline costs one pass and 64 KiB of memory;
// NUL bytes and invalid UTF-8 become U+FFFD; and when `flow` says the job's output cannot be sent
// as fast as it comes, the process's pipes are paused, so the job (not the agent) waits.
import { StringDecoder } from "node:string_decoder";
import type { Readable } from "node:stream";
import type { ExecHandle, ExecRequest, Machine } from "../provisioners/types.js";
import { cleanText, MAX_LINE_CHARS } from "./text.js";
import type { OutputFlow } from "./types.js";

export interface ProcessOutcome {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process was killed because `signal` aborted. */
  aborted: boolean;
  /** Set when the process could not be started at all. */
  startError?: string;
}

/** `cut`: characters dropped from the end of an over-long line (0 for a whole line). */
export type LineHandler = (stream: "stdout" | "stderr", line: string, cut: number) => void;

export async function runProcess(
  machine: Machine,
  req: ExecRequest,
  signal: AbortSignal,
  onLine: LineHandler,
  flow?: OutputFlow,
  /** Starts the process another way (a Docker action's container); default: machine.exec. */
  launch?: (req: ExecRequest) => ExecHandle,
): Promise<ProcessOutcome> {
  if (signal.aborted) return { exitCode: null, signal: null, aborted: true };
  let handle;
  try {
    handle = launch ? launch(req) : machine.exec(req);
  } catch (err) {
    return { exitCode: null, signal: null, aborted: false, startError: (err as Error).message };
  }
  let aborted = false;
  const onAbort = (): void => {
    aborted = true;
    handle.kill();
    // A paused pipe would never end: what is left is read (and goes out) without waiting.
    handle.stdout.resume();
    handle.stderr.resume();
  };
  signal.addEventListener("abort", onAbort, { once: true });
  const paced = flow && {
    blocked: () => !aborted && flow.blocked(),
    whenUnblocked: () => flow.whenUnblocked(),
  };
  try {
    const streams = [
      pump(handle.stdout, "stdout", onLine, paced),
      pump(handle.stderr, "stderr", onLine, paced),
    ];
    const result = await handle.wait();
    await Promise.all(streams);
    return { exitCode: result.exitCode, signal: result.signal, aborted };
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

function pump(
  stream: Readable,
  name: "stdout" | "stderr",
  onLine: LineHandler,
  flow: OutputFlow | undefined,
): Promise<void> {
  const decoder = new StringDecoder("utf8");
  let line = "";
  let cut = 0;
  const add = (part: string): void => {
    const room = MAX_LINE_CHARS - line.length;
    if (part.length <= room) line += part;
    else {
      line += part.slice(0, room);
      cut += part.length - room;
    }
  };
  const emit = (): void => {
    const text = cut === 0 && line.endsWith("\r") ? line.slice(0, -1) : line;
    const dropped = cut;
    line = "";
    cut = 0;
    onLine(name, cleanText(text), dropped);
  };
  const take = (text: string): void => {
    let pos = 0;
    for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", pos)) {
      add(text.slice(pos, nl));
      emit();
      pos = nl + 1;
    }
    if (pos < text.length) add(text.slice(pos));
  };
  let waiting = false;
  return new Promise((resolve) => {
    stream.on("data", (chunk: Buffer | string) => {
      take(typeof chunk === "string" ? chunk : decoder.write(chunk));
      if (flow && !waiting && flow.blocked()) {
        waiting = true;
        stream.pause();
        void flow.whenUnblocked().then(() => {
          waiting = false;
          stream.resume();
        });
      }
    });
    let finished = false;
    const done = (): void => {
      if (finished) return;
      finished = true;
      take(decoder.end());
      if (line !== "" || cut > 0) emit();
      resolve();
    };
    stream.once("end", done);
    stream.once("close", done);
    stream.once("error", done);
  });
}
