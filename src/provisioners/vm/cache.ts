// Pruning of the VM disk cache (`<images dir>/vm`, built by disks.ts and initramfs.ts): a root disk
// per image digest (as large as the image), a node disk per node binary and an initramfs per guest
// helper build. Without pruning every rebuilt image, node upgrade and helper build leaves its disk
// behind for good. A file goes only when nothing can want it:
//   root-<hex>.ext4   no image name in the store points at <hex> and no live lease holds it;
//   node-*, initramfs-*  not this process's current one;
//   *.tmp (partial builds)  their builder process is gone;
// and in every case, not used within GRACE_MS (each use touches the file: another agent sharing the
// folder may be about to boot on it) and not in the command line of a running process (a QEMU of
// any agent on this host). Deleting a disk a running QEMU has open would not hurt it (the inode
// lives on), so the grace period only covers the seconds between choosing a file and opening it.
// Several agents may prune at once: each removal is idempotent and each decision safe on its own.
import { promises as fsp, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { ImageStore, pidAlive } from "../../images/index.js";

export const GRACE_MS = 60 * 60_000;

export interface PruneOptions {
  /** The image store next to the cache: its names say which digests are current, its leases which are in use. */
  imagesDir: string;
  /** Files of this process that must stay (its current node disk and initramfs). */
  keep: readonly string[];
  graceMs?: number;
  /** Command lines of running processes (tests); default read from /proc. */
  cmdlines?: () => string[];
}

function procCmdlines(): string[] {
  const out: string[] = [];
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      out.push(readFileSync(`/proc/${pid}/cmdline`, "utf8"));
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

function liveLease(imagesDir: string, hex: string): boolean {
  try {
    return readdirSync(path.join(imagesDir, "leases", hex)).some((f) => pidAlive(Number(f.split("-")[0])));
  } catch {
    return false;
  }
}

/** Removes what no one can want from `cacheDir`; returns the names removed. */
export async function pruneCache(cacheDir: string, o: PruneOptions): Promise<string[]> {
  let names: string[];
  try {
    names = await fsp.readdir(cacheDir);
  } catch {
    return [];
  }
  const current = new Set(new ImageStore(o.imagesDir).list().map((r) => r.digest.replace(/^sha256:/, "")));
  const keep = new Set(o.keep.map((k) => path.resolve(k)));
  const grace = o.graceMs ?? GRACE_MS;
  let cmdlines: string[] | undefined;
  const removed: string[] = [];
  for (const name of names) {
    const file = path.join(cacheDir, name);
    const tmp = /\.(\d+)\.\d+\.tmp(\.d)?$/.exec(name);
    const root = /^root-([0-9a-f]{64})\.ext4$/.exec(name);
    let stale: boolean;
    if (tmp) stale = !pidAlive(Number(tmp[1]));
    else if (root) stale = !current.has(root[1]!) && !liveLease(o.imagesDir, root[1]!);
    else if (/^(node-[0-9a-f]+\.ext4|initramfs-[0-9a-f]+\.cpio)$/.test(name)) stale = !keep.has(file);
    else stale = false; // scratch-skel, anything we do not know
    if (!stale) continue;
    const st = await fsp.lstat(file).catch(() => undefined);
    if (!st || Date.now() - st.mtimeMs < grace) continue;
    cmdlines ??= (o.cmdlines ?? procCmdlines)();
    if (cmdlines.some((c) => c.includes(file))) continue;
    await fsp.rm(file, { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/** Marks a cached file as just used (see GRACE_MS); best effort. */
export async function touch(file: string): Promise<void> {
  const now = new Date();
  await fsp.utimes(file, now, now).catch(() => undefined);
}
