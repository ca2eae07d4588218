// What the node offers, as reported in `hello`: CPUs and memory from the OS, disk from the free
// space of the agent's data folder (where machines' state usually lives).
import os from "node:os";
import { statfs } from "node:fs/promises";

export interface Capacity {
  cpus: number;
  memoryMb: number;
  diskMb: number;
}

const MiB = 1024 * 1024;

export async function detectCapacity(dataDir: string): Promise<Capacity> {
  let diskMb = 1;
  try {
    const s = await statfs(dataDir);
    diskMb = Math.max(1, Math.floor((s.bavail * s.bsize) / MiB));
  } catch {
    // An unreadable folder reports a token 1 MiB: the node registers, and placement shows why it waits.
  }
  return {
    cpus: Math.max(1, os.cpus().length),
    memoryMb: Math.max(1, Math.floor(os.totalmem() / MiB)),
    diskMb,
  };
}
