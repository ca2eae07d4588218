// Turns a spawned host process into an ExecHandle. Shared by the fake and sandbox backends.
//
// Why our own PassThrough streams: a step may leave a background process holding its stdout
// (`server &`). The step is over when its main process exits; we then give the pipes a short
// grace period to drain and end our streams ourselves, so wait() never hangs on a grandchild and
// consumers still see a clean 'end'.
import type { ChildProcess } from "node:child_process";
import { PassThrough, type Readable } from "node:stream";
import type { ExecHandle, ExecResult } from "../types.js";

/** How long to wait for stdout/stderr to reach EOF after the main process exited. */
export const DRAIN_GRACE_MS = 250;

export function wrapChild(child: ChildProcess, kill: () => void): ExecHandle {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const ended = [follow(child.stdout, stdout), follow(child.stderr, stderr)];

  const result = new Promise<ExecResult>((resolve) => {
    let spawnError: Error | undefined;
    child.once("error", (err) => {
      // spawn failure (e.g. ENOENT): report like a shell would, with the reason on stderr.
      spawnError = err;
      stderr.write(`${err.message}\n`);
      resolve(finish({ exitCode: 127, signal: null }));
    });
    child.once("exit", (code, signal) => {
      if (spawnError) return;
      resolve(finish({ exitCode: code, signal }));
    });
  });

  async function finish(r: ExecResult): Promise<ExecResult> {
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((res) => (timer = setTimeout(res, DRAIN_GRACE_MS)));
    await Promise.race([Promise.all(ended), grace]);
    clearTimeout(timer);
    child.stdout?.destroy();
    child.stderr?.destroy();
    stdout.end();
    stderr.end();
    return r;
  }

  return {
    stdout,
    stderr,
    wait: () => result,
    kill,
  };
}

function follow(src: Readable | null, dst: PassThrough): Promise<void> {
  if (!src) return Promise.resolve();
  src.pipe(dst, { end: false });
  return new Promise((resolve) => {
    src.once("end", resolve);
    src.once("close", resolve);
    src.once("error", () => resolve());
  });
}
