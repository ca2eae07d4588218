// A reader that stops early (`airlock runs list | head -1`) closes our stdout. Like git and ls,
// the CLI then ends quietly: no EPIPE stack trace. Node ignores SIGPIPE, so the exit is 0 rather
// than the shell's 141 for a process killed by the signal.

/** Makes a write to a closed `streams` pipe end the process quietly with status 0. */
export function exitQuietlyOnClosedPipe(
  streams: NodeJS.WritableStream[] = [process.stdout, process.stderr],
  exit: (code: number) => void = (code) => process.exit(code),
): void {
  for (const stream of streams) {
    stream.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code !== "EPIPE") throw err;
      exit(0);
    });
  }
}
