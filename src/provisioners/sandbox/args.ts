// Builds the bubblewrap command line for one machine.
//
// Layout inside the sandbox:
//   /                 bwrap's own tmpfs, made read-only at the end (--remount-ro /); every top-level
//                     entry of the host root (or of the image rootfs) is --ro-bind'ed onto it, symlinks
//                     recreated. We do not --ro-bind / itself because a read-only / leaves no place to
//                     create the /airlock mount points, and a rootfs image need not contain them.
//   /proc /dev /tmp   fresh (proc of the new PID namespace, minimal dev, private tmpfs);
//   /sys              host /sys read-only (tools read CPU/memory limits from it);
//   /airlock/*        the machine's private host folders (actions read-only: only copyIn writes it).
// The host's machine folder (baseDir) is covered by a tmpfs so a job cannot see other machines.
import { readdirSync, readlinkSync } from "node:fs";
import path from "node:path";

export const INNER_ROOT = "/airlock";
export const SUBDIRS = ["workspace", "temp", "actions", "home", "toolcache"] as const;
export type Subdir = (typeof SUBDIRS)[number];

/** uid/gid of job processes inside the sandbox (GitHub's hosted runners use 1001 "runner"). */
export const INNER_UID = 1001;
export const INNER_GID = 1001;

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
  /** The machine's own cgroup folders, bound read-only over their hierarchies' mount points. */
  cgroupBinds?: ReadonlyArray<{ host: string; inner: string }>;
  /** Size of /tmp (a tmpfs). */
  tmpMb?: number;
}

export function bwrapArgs(i: BwrapArgsInput): string[] {
  const root = i.image ?? "/";
  const args = [
    "--unshare-user",
    "--uid",
    String(INNER_UID),
    "--gid",
    String(INNER_GID),
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
    "--unshare-cgroup-try",
    "--unshare-net",
    "--hostname",
    "airlock",
    "--die-with-parent",
    "--new-session",
    ...rootArgs(root),
    "--ro-bind",
    "/sys",
    "/sys",
    "--proc",
    "/proc",
    "--dev",
    "/dev",
  ];
  // A job reads its limits where tools look (/sys/fs/cgroup/...) and sees no other cgroup there.
  for (const b of i.cgroupBinds ?? []) args.push("--ro-bind", b.host, b.inner);
  if (i.tmpMb !== undefined) args.push("--size", String(Math.round(i.tmpMb * 1024 * 1024)));
  args.push("--tmpfs", "/tmp");
  if (i.image === undefined && !isInside(i.baseDir, "/tmp")) args.push("--tmpfs", i.baseDir);
  for (const d of SUBDIRS) {
    args.push(d === "actions" ? "--ro-bind" : "--bind", path.join(i.machineDir, d), `${INNER_ROOT}/${d}`);
  }
  args.push("--remount-ro", "/", "--chdir", `${INNER_ROOT}/workspace`);
  return args;
}

function isInside(p: string, dir: string): boolean {
  const rel = path.relative(dir, p);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}
