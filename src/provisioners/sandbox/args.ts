// Builds the bubblewrap command line for one machine.
//
// Layout inside the sandbox:
//   /                 the image rootfs, bound read-only in one mount when it holds every mount point
//                     below (the image store adds them when it unpacks an image: images/mount-points);
//                     otherwise bwrap's own tmpfs, made read-only at the end (--remount-ro /), with
//                     every top-level entry of the rootfs (or of the host root) --ro-bind'ed onto it
//                     and symlinks recreated, which leaves room to create the mount points.
//   /proc /dev        fresh: procfs of the machine's own PID namespace, bwrap's minimal /dev;
//   /dev/shm /tmp     private tmpfs, each with a size limit;
//   /sys              a read-only tmpfs holding only what tools read: /sys/devices/system/cpu and the
//                     machine's own cgroup folders at /sys/fs/cgroup (no /sys/class, /sys/kernel,
//                     /sys/firmware, no host cgroups);
//   /airlock/*        the machine's private host folders (actions read-only: only copyIn writes it);
//   /home/runner      the machine's private home, when the image has that folder (its runner user's
//                     home in passwd; images built by src/images do), else /airlock/home;
//   /etc/passwd, /etc/group  generated files naming the job user `runner` (identity.ts), bound
//                     read-only over the root's own (or into a fresh /etc when the root has none);
//   /airlock/externals/bin/airlock-exec  the native helper, read-only (PID 1 and every step run it).
//   /airlock/externals/node/bin/node     the host's node binary, read-only, for JavaScript actions.
// The host's machine folder (baseDir) is covered by a tmpfs so a job cannot see other machines.
//
// Credentials: bwrap runs PID 1 (airlock-exec --init, --as-pid-1: no unfiltered bwrap reaper stays
// inside) as uid/gid 1001 with every capability dropped (--cap-drop ALL: bounding set too),
// no_new_privs and the seccomp filter (--seccomp); --disable-userns puts it in a nested user
// namespace where no further one can be made, unless the pool allows nesting.
import { existsSync, readdirSync, readlinkSync, realpathSync } from "node:fs";
import path from "node:path";
import { hasMountPoints } from "../../images/index.js";
import type { IdentityFiles } from "./identity.js";

import { EXTERNAL_NODE, INNER_GID, INNER_HELPER, INNER_ROOT, INNER_UID, SUBDIRS } from "../common/layout.js";

export {
  EXTERNAL_NODE,
  INNER_GID,
  INNER_HELPER,
  INNER_ROOT,
  INNER_UID,
  SUBDIRS,
  type Subdir,
} from "../common/layout.js";
/** The host's node binary (itself, not a symlink: bwrap binds what the path names). */
const HOST_NODE = realpathSync(process.execPath);

/** Sizes when the machine's limits name none (tmpfs counts against the memory limit too). */
export const DEFAULT_SHM_MB = 64;
export const DEFAULT_TMP_MB = 1024;
/** What of /sys a job sees (read-only), besides its own cgroups. */
const SYS_KEEP = ["/sys/devices/system/cpu"];
/** File descriptors bwrap reads: --info-fd and --seccomp (spawned with stdio 0-4). */
export const INFO_FD = 3;
export const SECCOMP_FD = 4;

const SKIP = new Set(["proc", "dev", "tmp", "sys", "airlock"]);
const rootCache = new Map<string, string[]>();

/** Mount arguments recreating `root`'s top level read-only; computed once per root folder. */
function rootArgs(root: string): string[] {
  const cached = rootCache.get(root);
  if (cached) return cached;
  const args: string[] = [];
  for (const ent of readdirSync(root, { withFileTypes: true })) {
    if (SKIP.has(ent.name)) continue;
    const src = path.join(root, ent.name);
    const dest = `/${ent.name}`;
    if (ent.isSymbolicLink()) args.push("--symlink", readlinkSync(src), dest);
    else if (ent.isDirectory() || ent.isFile()) args.push("--ro-bind", src, dest);
  }
  rootCache.set(root, args);
  return args;
}

export interface BwrapArgsInput {
  /** Host folder holding the machine's subfolders. */
  machineDir: string;
  /** Host folder holding all machines (hidden inside). */
  baseDir: string;
  image: string | undefined;
  /** Host path of airlock-exec, bound read-only at INNER_HELPER. */
  helper: string;
  /** Pool option: jobs may create nested user namespaces (off: --disable-userns and the filter). */
  allowUserns: boolean;
  /**
   * The machine's own cgroup folders, bound read-only over their hierarchies' mount points
   * (`inner` under /sys/fs/cgroup): a job reads its limits where tools look and sees no other cgroup.
   */
  cgroupBinds?: ReadonlyArray<{ host: string; inner: string }>;
  /** Sizes of /dev/shm and /tmp; default DEFAULT_SHM_MB, DEFAULT_TMP_MB. */
  shmMb?: number;
  tmpMb?: number;
  /** Inner path of the machine's home: /home/runner when the image has it (its passwd says so). */
  home: string;
  /** Generated /etc/passwd and /etc/group naming the job user (identity.ts); absent: the root's own. */
  identity?: IdentityFiles;
}

/** The rootfs is bound read-only in one mount (its mount points exist, nothing is created in it). */
export function singleRootBind(image: string | undefined): boolean {
  return image !== undefined && hasMountPoints(image);
}

export function bwrapArgs(i: BwrapArgsInput): string[] {
  const root = i.image ?? "/";
  const single = singleRootBind(i.image);
  const args = [
    "--unshare-user",
    "--uid",
    String(INNER_UID),
    "--gid",
    String(INNER_GID),
    ...(i.allowUserns ? [] : ["--disable-userns"]),
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
    "--unshare-cgroup-try",
    "--unshare-net",
    "--hostname",
    "airlock",
    "--die-with-parent",
    "--new-session",
    "--cap-drop",
    "ALL",
    "--as-pid-1",
    "--seccomp",
    String(SECCOMP_FD),
    ...(single ? ["--ro-bind", root, "/"] : rootArgs(root)),
    ...sysArgs(i.cgroupBinds ?? []),
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    "--size",
    String(mib(i.shmMb ?? DEFAULT_SHM_MB)),
    "--tmpfs",
    "/dev/shm",
    "--size",
    String(mib(i.tmpMb ?? DEFAULT_TMP_MB)),
    "--tmpfs",
    "/tmp",
  ];
  if (i.image === undefined && !isInside(i.baseDir, "/tmp")) args.push("--tmpfs", i.baseDir);
  for (const d of SUBDIRS) {
    const inner = d === "home" ? i.home : `${INNER_ROOT}/${d}`;
    args.push(d === "actions" ? "--ro-bind" : "--bind", path.join(i.machineDir, d), inner);
  }
  if (i.identity && i.identity.mount !== "none") {
    if (i.identity.mount === "create") args.push("--dir", "/etc");
    args.push("--ro-bind", i.identity.passwd, "/etc/passwd", "--ro-bind", i.identity.group, "/etc/group");
  }
  args.push("--ro-bind", i.helper, INNER_HELPER);
  args.push("--ro-bind", HOST_NODE, EXTERNAL_NODE);
  if (!single) args.push("--remount-ro", "/");
  args.push("--chdir", `${INNER_ROOT}/workspace`);
  return args;
}

/** /sys as a read-only tmpfs with only SYS_KEEP and the machine's cgroups bound in. */
function sysArgs(cgroupBinds: ReadonlyArray<{ host: string; inner: string }>): string[] {
  const args = ["--perms", "0755", "--tmpfs", "/sys"];
  for (const p of SYS_KEEP) if (existsSync(p)) args.push("--ro-bind", p, p);
  args.push("--dir", "/sys/fs/cgroup");
  for (const b of cgroupBinds) {
    if (!isInside(b.inner, "/sys/fs/cgroup"))
      throw new Error(`cgroup bind ${b.inner} is outside /sys/fs/cgroup`);
    args.push("--ro-bind", b.host, b.inner);
  }
  args.push("--remount-ro", "/sys");
  return args;
}

function mib(n: number): number {
  return Math.max(1024 * 1024, Math.round(n * 1024 * 1024));
}

function isInside(p: string, dir: string): boolean {
  const rel = path.relative(dir, p);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}
