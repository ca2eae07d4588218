// What the node offers, as reported in `hello`: CPUs and memory from the OS, disk from the free
// space of the filesystem holding the agent's data folder (where machines' state usually lives).
// The folder need not exist yet (a first start, or `--cpus` given before the agent made it): the
// filesystem is that of its nearest existing parent, where the folder will be made.
import os from "node:os";
import { statfs } from "node:fs/promises";
import { dirname, resolve } from "node:path";

export interface Capacity {
  cpus: number;
  memoryMb: number;
  /** Free space (for an unprivileged user) of the data folder's filesystem, in MiB. */
  diskMb: number;
}

/** The data folder's filesystem: free and total space in MiB. */
export interface DiskSpace {
  freeMb: number;
  totalMb: number;
  /** The folder actually asked (the data folder, or its nearest existing parent). */
  path: string;
}

const MiB = 1024 * 1024;

/** statfs of `dir`, or of its nearest existing parent when it does not exist yet. */
export async function diskSpace(dir: string): Promise<DiskSpace> {
  let path = resolve(dir);
  for (;;) {
    try {
      const s = await statfs(path);
      return {
        freeMb: Math.floor((s.bavail * s.bsize) / MiB),
        totalMb: Math.floor((s.blocks * s.bsize) / MiB),
        path,
      };
    } catch (err) {
      const parent = dirname(path);
      if ((err as NodeJS.ErrnoException).code !== "ENOENT" || parent === path) throw err;
      path = parent;
    }
  }
}

export async function detectCapacity(dataDir: string): Promise<Capacity> {
  let diskMb = 1;
  try {
    diskMb = Math.max(1, (await diskSpace(dataDir)).freeMb);
  } catch {
    // An unreadable folder reports a token 1 MiB: the node registers, and placement shows why it waits.
  }
  return {
    cpus: Math.max(1, os.cpus().length),
    memoryMb: Math.max(1, Math.floor(os.totalmem() / MiB)),
    diskMb,
  };
}
