// Turns a spawned host process into an ExecHandle. Shared by the fake and sandbox backends.
//
// Why our own PassThrough streams: a step may leave a background process holding its stdout
// (`server &`). The step is over when its main process exits; we then give the pipes a short
// grace period to drain and end our streams ourselves, so wait() never hangs on a grandchild and
// consumers still see a clean 'end'.
//
// A consumer may apply backpressure (the agent pauses a job's output while it cannot send it): then
// the pipes cannot drain within the grace period, and cutting them would lose the step's last
// lines. While our streams are full, the grace period starts again each time the consumer drains
// them — until POST_EXIT_LIMIT bytes came after the exit (more than the main process could have
// left in its pipes: that is a background process writing, and it is cut as before).
import { once } from "node:events";
import type { ChildProcess } from "node:child_process";
import { PassThrough, type Readable } from "node:stream";
import type { ExecHandle, ExecResult } from "../types.js";

/** How long to wait for stdout/stderr to reach EOF after the main process exited. */
export const DRAIN_GRACE_MS = 250;
/** Output read after the main process exited beyond which the pipes are cut even under backpressure. */
export const POST_EXIT_LIMIT = 1024 * 1024;

export function wrapChild(child: ChildProcess, kill: () => void): ExecHandle {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const ended = [follow(child.stdout, stdout), follow(child.stderr, stderr)];
  let exited = false;
  let afterExit = 0;
  const count = (chunk: Buffer): void => {
    if (exited) afterExit += chunk.length;
  };
  child.stdout?.on("data", count);
  child.stderr?.on("data", count);

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
    exited = true;
    const allEnded = Promise.all(ended).then(() => true);
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<boolean>((res) => (timer = setTimeout(() => res(false), DRAIN_GRACE_MS)));
      const done = await Promise.race([allEnded, grace]);
      clearTimeout(timer);
      if (done) break;
      const full = [stdout, stderr].filter((s) => s.writableNeedDrain);
      if (full.length === 0 || afterExit > POST_EXIT_LIMIT) break;
      await Promise.race([allEnded, ...full.map((s) => once(s, "drain"))]);
    }
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
