// The empty folders and files a machine mounts onto, added to every rootfs when the store unpacks
// it (the tarball, and so the digest, stay as built). With all of them present the sandbox binds
// the whole rootfs read-only at / in one mount and mounts the machine's own folders on top;
// without them (a rootfs unpacked by an older Airlock) it recreates the rootfs's top level entry by
// entry, which costs ~2 ms more per machine start (bubblewrap re-reads the mount table per bind).
import { closeSync, lstatSync, mkdirSync, openSync, constants } from "node:fs";
import path from "node:path";

/** Folders, relative to the rootfs, in creation order. */
export const MOUNT_DIRS = [
  "proc",
  "dev",
  "sys",
  "tmp",
  "airlock",
  "airlock/workspace",
  "airlock/temp",
  "airlock/actions",
  "airlock/home",
  "airlock/toolcache",
  "airlock/externals",
  "airlock/externals/bin",
  "airlock/externals/node",
  "airlock/externals/node/bin",
] as const;

/** Files (bind targets of the native helper and of the node binary). */
export const MOUNT_FILES = ["airlock/externals/bin/airlock-exec", "airlock/externals/node/bin/node"] as const;

/**
 * Adds the mount points to a freshly unpacked rootfs. Never follows a symlink: an entry that
 * exists as anything else than what we need (a symlink, a file where a folder goes) is left
 * alone, and the rootfs then simply lacks the mount points (hasMountPoints says false).
 */
export function addMountPoints(rootfs: string): void {
  for (const d of MOUNT_DIRS) {
    const p = path.join(rootfs, d);
    const st = lstatSync(p, { throwIfNoEntry: false });
    if (st === undefined) {
      if (!parentsAreDirs(rootfs, d)) return;
      mkdirSync(p, { mode: d === "tmp" ? 0o1777 : 0o755 });
    } else if (!st.isDirectory()) return;
  }
  for (const f of MOUNT_FILES) {
    const p = path.join(rootfs, f);
    const st = lstatSync(p, { throwIfNoEntry: false });
    if (st === undefined) {
      if (!parentsAreDirs(rootfs, f)) return;
      closeSync(
        openSync(p, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW, 0o644),
      );
    }
  }
}

const cache = new Map<string, boolean>();

/** True when every mount point is in `rootfs` as a real folder or file (no symlink on the way). Cached. */
export function hasMountPoints(rootfs: string): boolean {
  const hit = cache.get(rootfs);
  if (hit !== undefined) return hit;
  const ok =
    MOUNT_DIRS.every(
      (d) => lstatSync(path.join(rootfs, d), { throwIfNoEntry: false })?.isDirectory() === true,
    ) &&
    MOUNT_FILES.every((f) => lstatSync(path.join(rootfs, f), { throwIfNoEntry: false })?.isFile() === true);
  cache.set(rootfs, ok);
  return ok;
}

/** `rel`'s parent folders inside rootfs are real folders (lstat: not symlinks). */
function parentsAreDirs(rootfs: string, rel: string): boolean {
  const parts = rel.split("/").slice(0, -1);
  for (let i = 1; i <= parts.length; i++) {
    const st = lstatSync(path.join(rootfs, ...parts.slice(0, i)), { throwIfNoEntry: false });
    if (!st?.isDirectory()) return false;
  }
  return true;
}
