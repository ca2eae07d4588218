// Small process and port helpers for the embedded server: liveness of a pid (a zombie counts as
// gone: in containers nobody may reap an orphan), what a pid runs, and a free TCP port (also used by the service for port 0).
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { basename } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S ..." — comm may hold spaces or parens, so split at the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return process.platform !== "linux";
  }
}

/**
 * When `pid` started (clock ticks since boot, from /proc/<pid>/stat), or "" when unknown. Recorded
 * beside a pid, it tells the same process from a later one that reused the pid (containers restart
 * with the same small pids).
 */
export function startTicks(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after "(comm)" start at field 3 (state); starttime is field 22.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? "";
  } catch {
    return "";
  }
}

/** argv of a running process, or undefined when it cannot be read. */
export function commandLine(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  } catch {
    return undefined;
  }
}

export function looksLikePostgres(argv: string[] | undefined): boolean {
  return argv?.[0] !== undefined && basename(argv[0]).startsWith("postgres");
}

/** Waits until `pid` is gone; false if it still lives after `ms`. */
export async function waitGone(pid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (isAlive(pid)) {
    if (Date.now() > until) return false;
    await sleep(50);
  }
  return true;
}

/** A TCP port that was free on `host` a moment ago (the caller retries if it is taken meanwhile). */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error("no free port"))));
    });
  });
}
