// The cgroups podman made for a machine's container (its memory, pids and CPU limits live there):
// read from /proc/<pid>/cgroup of its PID 1, so that each step joins them (airlock-exec --join:
// accounted from its first instruction) and limitExceeded() reads the kernel's counters.
import { promises as fsp, readFileSync } from "node:fs";
import path from "node:path";
import { detectCgroups, type CgroupLayout } from "../common/cgroups/index.js";
import type { LimitKind } from "../common/limits.js";

export interface ContainerCgroups {
  /** cgroup.procs of every hierarchy the container is in (for --join). */
  procs: string[];
  memory?: { dir: string; v2: boolean };
  pids?: string;
}

export function containerCgroups(pid: number, layout: CgroupLayout = detectCgroups()): ContainerCgroups {
  const out: ContainerCgroups = { procs: [] };
  for (const line of readFileSync(`/proc/${pid}/cgroup`, "utf8").split("\n")) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const [, , ctrls = "", rel = "/"] = m;
    let mount: string | undefined;
    if (ctrls === "") mount = layout.v2;
    else
      mount = ctrls
        .split(",")
        .map((c) => layout.v1.get(c))
        .find((x) => x !== undefined);
    if (mount === undefined) continue;
    const dir = path.join(mount, rel);
    if (!path.resolve(dir).startsWith(mount)) continue;
    out.procs.push(path.join(dir, "cgroup.procs"));
    const list = ctrls.split(",");
    if (ctrls === "") {
      if (layout.resources.memory === "v2") out.memory = { dir, v2: true };
      if (layout.resources.pids === "v2") out.pids = dir;
    } else {
      if (list.includes("memory") && layout.resources.memory === "v1") out.memory = { dir, v2: false };
      if (list.includes("pids") && layout.resources.pids === "v1") out.pids = dir;
    }
  }
  out.procs = [...new Set(out.procs)];
  return out;
}

async function readOr(file: string): Promise<string> {
  return fsp.readFile(file, "utf8").catch(() => "");
}

function counter(text: string, key: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${key} `));
  return line ? Number(line.slice(key.length + 1)) || 0 : 0;
}

/** Which limit the container went over (pids first: a fork bomb also eats memory). */
export async function containerHit(cg: ContainerCgroups): Promise<LimitKind | undefined> {
  if (cg.pids && counter(await readOr(path.join(cg.pids, "pids.events")), "max") > 0) return "pids";
  if (cg.memory) {
    if (cg.memory.v2) {
      const ev = await readOr(path.join(cg.memory.dir, "memory.events"));
      if (counter(ev, "oom_kill") > 0 || counter(ev, "oom_group_kill") > 0) return "memory";
    } else {
      const oom = await readOr(path.join(cg.memory.dir, "memory.oom_control"));
      if (counter(oom, "oom_kill") > 0 || counter(oom, "under_oom") > 0) return "memory";
    }
  }
  return undefined;
}
