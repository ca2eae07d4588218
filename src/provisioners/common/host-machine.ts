// The part shared by machines whose files live in host folders (fake, sandbox): symlink-safe file
// access through MachineFs, and processes started in their own process groups so that kill() and
// destroy() reach everything a step started (unless it escaped with setsid).
import { spawn, type ChildProcess } from "node:child_process";
import { wrapChild } from "./exec-handle.js";
import type { MachineFs } from "./safe-fs.js";
import type { ExecHandle } from "../types.js";
import { AirlockError, ErrorCode } from "../../errors/index.js";

export abstract class HostFolderMachine {
  /** Process-group ids of every exec, killed on destroy. */
  private readonly groups = new Set<number>();
  /** Set when destroy() starts: from then on nothing new is written into the machine's folders. */
  protected closing = false;

  protected constructor(protected readonly fs: MachineFs) {}

  /** Spawns `file args` detached in a new process group, with exactly `env`. */
  protected spawnInGroup(file: string, args: string[], env: Record<string, string>, cwd: string): ExecHandle {
    const child = spawn(file, args, { env, cwd, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    return this.adoptInGroup(child);
  }

  /** Registers a process spawned detached (its own process group) to be killed on destroy. */
  protected trackGroup(child: ChildProcess): void {
    if (child.pid !== undefined) this.groups.add(child.pid);
  }

  /** An ExecHandle over `child`, spawned detached with stdout and stderr piped. */
  protected adoptInGroup(child: ChildProcess): ExecHandle {
    this.trackGroup(child);
    const pgid = child.pid;
    return wrapChild(child, () => {
      if (pgid !== undefined) killGroup(pgid);
    });
  }

  protected killAllGroups(): void {
    for (const g of this.groups) killGroup(g);
  }

  writeFile(innerPath: string, data: string | Uint8Array): Promise<void> {
    if (this.closing) return Promise.reject(destroyedError());
    return this.fs.writeFile(innerPath, data);
  }

  readFile(innerPath: string, opts?: { maxBytes?: number }): Promise<Buffer | undefined> {
    return this.fs.readFile(innerPath, opts);
  }

  copyIn(hostPath: string, innerPath: string): Promise<void> {
    if (this.closing) return Promise.reject(destroyedError());
    return this.fs.copyIn(hostPath, innerPath);
  }

  hostPath(innerPath: string): string | undefined {
    return this.fs.hostPath(innerPath);
  }
}

function destroyedError(): AirlockError {
  return new AirlockError(ErrorCode.MACHINE_FAILED, "the machine is being destroyed");
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, "SIGKILL");
  } catch {
    // already gone
  }
}
