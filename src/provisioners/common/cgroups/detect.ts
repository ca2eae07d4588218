// Which cgroup hierarchies this host has, read from /proc/self/mountinfo: v2 only (one unified
// hierarchy holding the controllers), v1 only (one hierarchy per controller, e.g. memory, pids,
// cpu,cpuacct), or hybrid (v1 controllers plus a v2 hierarchy, often at /sys/fs/cgroup/unified,
// holding the controllers that are not bound to v1 — usually none). For each resource we pick
// the hierarchy that has its controller; v2 wins when both could.
import { readFileSync } from "node:fs";
import path from "node:path";

export type CgroupMode = "v2" | "v1" | "hybrid" | "none";
export const RESOURCES = ["memory", "pids", "cpu"] as const;
export type Resource = (typeof RESOURCES)[number];

export interface CgroupLayout {
  mode: CgroupMode;
  /** Mount point of the v2 hierarchy, if mounted. */
  v2?: string;
  /** Controllers the v2 hierarchy offers (its root's cgroup.controllers). */
  v2Controllers: ReadonlySet<string>;
  /** v1 controller (and named hierarchy, "name=systemd") → mount point. */
  v1: ReadonlyMap<string, string>;
  /** Where each resource is controlled; absent: this host cannot limit it. */
  resources: Partial<Record<Resource, "v1" | "v2">>;
}

/** Parses mountinfo text; `readControllers` reads a v2 root's cgroup.controllers (for tests). */
export function parseCgroupLayout(
  mountinfo: string,
  readControllers: (v2Mount: string) => string = (m) =>
    readFileSync(path.join(m, "cgroup.controllers"), "utf8"),
): CgroupLayout {
  let v2: string | undefined;
  const v1 = new Map<string, string>();
  for (const line of mountinfo.split("\n")) {
    const sep = line.indexOf(" - ");
    if (sep < 0) continue;
    const pre = line.slice(0, sep).split(" ");
    const [fstype, , superOpts = ""] = line.slice(sep + 3).split(" ");
    const mountPoint = unescape(pre[4] ?? "");
    if (fstype === "cgroup2") v2 ??= mountPoint;
    else if (fstype === "cgroup") {
      for (const opt of superOpts.split(",")) {
        if (opt === "rw" || opt === "ro" || opt.startsWith("release_agent") || opt === "clone_children")
          continue;
        if (!v1.has(opt)) v1.set(opt, mountPoint);
      }
    }
  }
  const v2Controllers = new Set<string>();
  if (v2 !== undefined) {
    try {
      for (const c of readControllers(v2).trim().split(/\s+/)) if (c) v2Controllers.add(c);
    } catch {
      // unreadable: treat as offering nothing
    }
  }
  const resources: Partial<Record<Resource, "v1" | "v2">> = {};
  for (const r of RESOURCES) {
    if (v2Controllers.has(r)) resources[r] = "v2";
    else if (v1.has(r)) resources[r] = "v1";
  }
  const hasV1 = [...v1.keys()].some((k) => !k.startsWith("name="));
  const mode: CgroupMode =
    v2 !== undefined && hasV1 ? "hybrid" : v2 !== undefined ? "v2" : hasV1 ? "v1" : "none";
  return { mode, ...(v2 !== undefined ? { v2 } : {}), v2Controllers, v1, resources };
}

let cached: CgroupLayout | undefined;

/** This host's layout (read once). */
export function detectCgroups(): CgroupLayout {
  cached ??= parseCgroupLayout(readFileSync("/proc/self/mountinfo", "utf8"));
  return cached;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** One line for operators: "cgroup hybrid: memory v1, pids v1, cpu v1 (v2 at /sys/fs/cgroup/unified)". */
export function describeLayout(l: CgroupLayout): string {
  const parts = RESOURCES.map((r) => `${r} ${l.resources[r] ?? "unavailable"}`);
  return `cgroup ${l.mode}: ${parts.join(", ")}${l.v2 ? ` (v2 at ${l.v2})` : ""}`;
}
