// Serialises writers of one mirror: a promise chain per folder inside this process, and a lock
// file beside the folder across processes on the same host (O_EXCL create, holder's pid inside;
// a lock whose holder died is broken). Readers need no lock: git updates refs atomically.
import { randomBytes } from "node:crypto";
import { open, readFile, stat, unlink } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";

const chains = new Map<string, Promise<void>>();

/** Runs fn while holding the lock on `path` (a folder); waits for earlier holders. */
export async function withLock<T>(path: string, fn: () => Promise<T>, waitMs = 20 * 60_000): Promise<T> {
  const previous = chains.get(path) ?? Promise.resolve();
  const run = previous.then(() => withFileLock(`${path}.airlock-lock`, fn, waitMs));
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  chains.set(path, tail);
  try {
    return await run;
  } finally {
    if (chains.get(path) === tail) chains.delete(path);
  }
}

async function withFileLock<T>(lockPath: string, fn: () => Promise<T>, waitMs: number): Promise<T> {
  const token = `${process.pid} ${randomBytes(8).toString("hex")}\n`;
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const fh = await open(lockPath, "wx", 0o600);
      await fh.writeFile(token);
      await fh.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      if (await holderIsDead(lockPath)) {
        await unlink(lockPath).catch(() => undefined);
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lockPath}`, { cause: err });
      await sleep(50);
    }
  }
  try {
    return await fn();
  } finally {
    // Remove the lock only if it is still ours.
    const content = await readFile(lockPath, "utf8").catch(() => "");
    if (content === token) await unlink(lockPath).catch(() => undefined);
  }
}

async function holderIsDead(lockPath: string): Promise<boolean> {
  const content = await readFile(lockPath, "utf8").catch(() => undefined);
  if (content === undefined) return false; // already gone: just retry
  if (content === "") {
    // Created but not yet written; only a holder that died in between leaves it empty for long.
    const mtime = await stat(lockPath).then(
      (s) => s.mtimeMs,
      () => Date.now(),
    );
    return Date.now() - mtime > 10_000;
  }
  const pid = Number.parseInt(content, 10);
  if (!Number.isInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
}
