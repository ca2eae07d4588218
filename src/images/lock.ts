// A cross-process lock for the image store's few mutations (publish a rootfs + ref, remove). The
// store is shared by the agent and `airlock image` commands run beside it, so an in-process mutex
// is not enough. The lock is a file created with O_EXCL holding the owner's pid; a lock whose owner
// died (a killed build) is taken over. Builds run outside it: only the short, final renames hold it.
import { open, readFile, unlink } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { AirlockError, ErrorCode } from "../errors/index.js";

const WAIT_MS = 60_000;

export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

export async function withLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      const fh = await open(file, "wx", 0o644);
      await fh.writeFile(String(process.pid));
      await fh.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const owner = Number(await readFile(file, "utf8").catch(() => ""));
      // An empty file is a lock being written right now: wait for it like any other.
      if (owner > 0 && !pidAlive(owner)) {
        await unlink(file).catch(() => undefined);
        continue;
      }
      if (Date.now() > deadline) {
        throw new AirlockError(
          ErrorCode.IMAGE_IN_USE,
          `image store is locked by process ${owner} (${file})`,
          {
            retryable: true,
          },
        );
      }
      await sleep(25);
    }
  }
  try {
    return await fn();
  } finally {
    await unlink(file).catch(() => undefined);
  }
}
