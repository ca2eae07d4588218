// The VM's disks, all ext4 made by mkfs.ext4 -d (no mount, no loop device):
//   root     the job image's rootfs folder, made once per image digest and shared read-only by
//            every machine of that image (QEMU opens it readonly=on; the guest mounts it ro, so no
//            copy-on-write layer is needed: the machine's writes go to its scratch disk and tmpfs);
//   node     the host's node binary (bin/node), made once per binary, read-only, for JavaScript
//            actions (the image provides the C and C++ libraries it links: glibc, libstdc++);
//   scratch  per machine: workspace, temp, actions, home and tool cache owned by the job user,
//            as large as the machine's disk limit (a sparse file, deleted on destroy).
// Shared disks are built into a temporary file and renamed into place: concurrent creates (in this
// process or another) at worst build the same file twice, and never see a half-written one. Each
// use touches the shared file, so cache.ts's pruning leaves what another agent just used.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, promises as fsp, realpathSync, statSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import { touch } from "./cache.js";

const execFileP = promisify(execFile);
const MKFS = "/usr/sbin/mkfs.ext4";
export const SCRATCH_DIRS = ["workspace", "temp", "actions", "home", "toolcache"] as const;
/** Scratch disk size when the machine has no disk limit (sparse: only what is written costs). */
export const DEFAULT_DISK_MB = 8192;

const building = new Map<string, Promise<string>>();

async function mkfs(dest: string, fromDir: string, sizeMb: number, inodes?: number): Promise<void> {
  const args = ["-q", "-F", "-t", "ext4", "-O", "^has_journal", "-m", "0", "-E", "root_owner=0:0"];
  if (inodes !== undefined) args.push("-N", String(inodes));
  args.push("-d", fromDir, dest, `${sizeMb}M`);
  try {
    await execFileP(MKFS, args, { maxBuffer: 1 << 20 });
  } catch (e) {
    const msg = ((e as { stderr?: string }).stderr ?? (e as Error).message).trim().split("\n")[0];
    throw new AirlockError(ErrorCode.MACHINE_FAILED, `mkfs.ext4 failed: ${msg}`, { cause: e });
  }
}

/** Builds `out` once with `make(tmp)` (atomic rename), deduplicated within this process. */
function once(out: string, make: (tmp: string) => Promise<void>): Promise<string> {
  if (existsSync(out)) return touch(out).then(() => out);
  let p = building.get(out);
  if (!p) {
    p = (async () => {
      await fsp.mkdir(path.dirname(out), { recursive: true });
      const tmp = `${out}.${process.pid}.${Date.now()}.tmp`;
      try {
        await make(tmp);
        await fsp.rename(tmp, out);
      } finally {
        await fsp.rm(tmp, { force: true });
      }
      return out;
    })().finally(() => building.delete(out));
    building.set(out, p);
  }
  return p;
}

/** Size (bytes) and entry count of a folder tree, without following symlinks. */
async function measure(dir: string): Promise<{ bytes: number; entries: number }> {
  let bytes = 0;
  let entries = 0;
  const walk = async (d: string): Promise<void> => {
    for (const e of await fsp.readdir(d, { withFileTypes: true })) {
      entries++;
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        bytes += 4096;
        await walk(p);
      } else if (e.isFile()) bytes += Math.ceil((await fsp.lstat(p)).size / 4096) * 4096;
    }
  };
  await walk(dir);
  return { bytes, entries };
}

/** Where the root disk of an image rootfs folder (`…/rootfs/<digest>`) is cached. */
export function rootDiskPath(cacheDir: string, rootfs: string): string {
  const key = path.basename(path.resolve(rootfs)).replace(/[^A-Za-z0-9_.-]/g, "_");
  return path.join(cacheDir, `root-${key}.ext4`);
}

/** The read-only root disk of an image rootfs folder, built once into cacheDir. */
export function ensureRootDisk(cacheDir: string, rootfs: string): Promise<string> {
  return once(rootDiskPath(cacheDir, rootfs), async (tmp) => {
    const { bytes, entries } = await measure(rootfs);
    const sizeMb = Math.ceil((bytes * 1.15) / (1 << 20)) + 64;
    await mkfs(tmp, rootfs, sizeMb, Math.ceil(entries * 1.2) + 1024);
  });
}

/** The read-only disk holding bin/node (the host's node binary), cached per binary. */
export function ensureNodeDisk(cacheDir: string, nodeBinary: string = process.execPath): Promise<string> {
  const real = realpathSync(nodeBinary);
  const st = statSync(real);
  const key = createHash("sha256").update(`${real}:${st.size}:${st.mtimeMs}`).digest("hex").slice(0, 16);
  return once(path.join(cacheDir, `node-${key}.ext4`), async (tmp) => {
    const stage = `${tmp}.d`;
    try {
      await fsp.mkdir(path.join(stage, "bin"), { recursive: true });
      await fsp.copyFile(real, path.join(stage, "bin", "node"));
      await fsp.chmod(path.join(stage, "bin", "node"), 0o755);
      await mkfs(tmp, stage, Math.ceil(st.size / (1 << 20)) + 32);
    } finally {
      await fsp.rm(stage, { recursive: true, force: true });
    }
  });
}

/** A fresh scratch disk at `dest` (folders of SCRATCH_DIRS owned by uid/gid). */
export async function makeScratchDisk(
  skelDir: string,
  dest: string,
  sizeMb: number,
  owner: { uid: number; gid: number },
): Promise<void> {
  if (!existsSync(path.join(skelDir, SCRATCH_DIRS[0]))) {
    const tmp = `${skelDir}.${process.pid}.${Date.now()}.tmp`;
    for (const d of SCRATCH_DIRS) {
      await fsp.mkdir(path.join(tmp, d), { recursive: true, mode: 0o755 });
      await fsp.chown(path.join(tmp, d), owner.uid, owner.gid);
    }
    await fsp.rename(tmp, skelDir).catch(() => fsp.rm(tmp, { recursive: true, force: true }));
  }
  await mkfs(dest, skelDir, Math.max(sizeMb, 16));
}
