// One machine's cgroups: one folder per hierarchy it uses, under a shared parent ("airlock"),
// holding the machine's memory, CPU and process limits. Shared by every provisioner whose machines
// are host processes (sandbox today, containers later).
//
// Every process of the machine must be inside from its first instruction: the provisioner starts
// each one through `airlock-exec --join <procs>... -- cmd` (src/native), which writes its own pid
// into every file of `procs` before exec. Which folders:
//   v2 (unified)  <v2>/<parent>/<id>: memory.max, memory.swap.max 0, memory.oom.group 1, pids.max,
//                 cpu.max; also joined on hybrid hosts without controllers, for cgroup.kill.
//   v1            <mount>/<parent>/<id> per hierarchy holding a controller we use:
//                 memory.limit_in_bytes = memory.memsw.limit_in_bytes (swap off), oom_kill_disable
//                 (the machine waits at the limit until the watcher kills all of it), pids.max,
//                 cpu.cfs_quota_us; plus the freezer on pure v1 hosts (to kill without a race).
// Over a limit: the memory or pids counters (memory.events / memory.oom_control, pids.events)
// move; `hit()` reads them, `watch()` polls them while the machine lives.
import {
  existsSync,
  mkdirSync,
  promises as fsp,
  readdirSync,
  readFileSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { AirlockError, ErrorCode } from "../../../errors/index.js";
import type { CgroupLayout, Resource } from "./detect.js";

export interface CgroupLimits {
  memoryMb?: number;
  cpus?: number;
  pids?: number;
}

export type LimitHit = "memory" | "pids";

/** CFS period: 100 ms, the kernel's default. */
const CPU_PERIOD_US = 100_000;
/** How often watch() reads the counters. */
export const WATCH_INTERVAL_MS = 150;
/** Give up killing / removing after this long (a process stuck in the kernel). */
const KILL_DEADLINE_MS = 15_000;

const parentsReady = new Set<string>();

/** Creates `<hierarchy>/<parent>` and, on v2, enables the controllers we use down to it. Once per process. */
function ensureParent(layout: CgroupLayout, parent: string, v2Used: Resource[], v1Mounts: string[]): void {
  const key = `${parent}\0${v2Used.join(",")}\0${v1Mounts.join(",")}`;
  if (parentsReady.has(key)) return;
  for (const m of v1Mounts) mkdirSync(path.join(m, parent), { recursive: true });
  if (layout.v2 !== undefined) {
    mkdirSync(path.join(layout.v2, parent), { recursive: true });
    if (v2Used.length > 0) {
      // Each level from the root down to the parent must delegate the controllers to its children.
      const enable = v2Used.map((c) => `+${c}`).join(" ");
      let dir = layout.v2;
      for (const part of ["", ...parent.split("/").filter(Boolean)]) {
        dir = path.join(dir, part);
        const f = path.join(dir, "cgroup.subtree_control");
        const have = new Set(readFileSync(f, "utf8").trim().split(/\s+/));
        if (v2Used.every((c) => have.has(c))) continue;
        try {
          writeFileSync(f, enable);
        } catch (e) {
          throw new AirlockError(
            ErrorCode.LIMITS_UNAVAILABLE,
            `cannot enable ${v2Used.join(", ")} in ${dir} (cgroup v2: a cgroup holding processes cannot delegate controllers; choose another cgroup parent): ${(e as Error).message}`,
          );
        }
      }
    }
  }
  parentsReady.add(key);
}

export class MachineCgroup {
  /** Files to write a pid into (airlock-exec --join), one per hierarchy. */
  readonly procs: string[];
  /** The machine's own folders, to bind read-only where a job looks for its limits (host → inner). */
  readonly binds: Array<{ host: string; inner: string }>;
  private readonly v2Dir: string | undefined;
  private readonly v1Dirs = new Map<string, string>(); // controller → folder
  private readonly dirs: string[];
  private removed: Promise<void> | undefined;

  private constructor(
    private readonly layout: CgroupLayout,
    parent: string,
    readonly id: string,
  ) {
    const use = layout.resources;
    this.v2Dir = layout.v2 === undefined ? undefined : path.join(layout.v2, parent, id);
    for (const r of ["memory", "pids", "cpu"] as const) {
      const m = use[r] === "v1" ? layout.v1.get(r) : undefined;
      if (m !== undefined) this.v1Dirs.set(r, path.join(m, parent, id));
    }
    // Pure v1: no cgroup.kill; the freezer lets us kill every process without a pid-reuse race.
    const freezer = layout.v2 === undefined ? layout.v1.get("freezer") : undefined;
    if (freezer !== undefined) this.v1Dirs.set("freezer", path.join(freezer, parent, id));
    this.dirs = [...new Set([...(this.v2Dir ? [this.v2Dir] : []), ...this.v1Dirs.values()])];
    this.procs = this.dirs.map((d) => path.join(d, "cgroup.procs"));
    // Inside, each folder covers its hierarchy's mount point: the job sees its own limits there.
    this.binds = this.dirs.map((d) => ({ host: d, inner: mountOf(layout, d) }));
  }

  /**
   * Creates the machine's cgroups with `limits` (synchronous: a dozen small writes, on the path
   * every job start waits for). Throws LIMITS_UNAVAILABLE when a requested limit cannot be set.
   */
  static create(layout: CgroupLayout, parent: string, id: string, limits: CgroupLimits): MachineCgroup {
    const cg = new MachineCgroup(layout, parent, id);
    const v2Used = (["memory", "pids", "cpu"] as const).filter((r) => layout.resources[r] === "v2");
    const v1Mounts = [...new Set([...cg.v1Dirs.values()].map((d) => mountOf(layout, d)))];
    try {
      ensureParent(layout, parent, v2Used, v1Mounts);
      for (const d of cg.dirs) mkdirSync(d);
      cg.apply(limits);
      return cg;
    } catch (e) {
      cg.removeDirsNow();
      if (e instanceof AirlockError) throw e;
      throw new AirlockError(
        ErrorCode.LIMITS_UNAVAILABLE,
        `cannot set up the cgroups of ${id}: ${(e as Error).message}`,
        { cause: e },
      );
    }
  }

  private dirFor(r: Resource): { dir: string; v: "v1" | "v2" } | undefined {
    const v = this.layout.resources[r];
    if (v === "v2" && this.v2Dir) return { dir: this.v2Dir, v };
    const d = this.v1Dirs.get(r);
    return v === "v1" && d ? { dir: d, v } : undefined;
  }

  private need(r: Resource): { dir: string; v: "v1" | "v2" } {
    const d = this.dirFor(r);
    if (!d) {
      throw new AirlockError(
        ErrorCode.LIMITS_UNAVAILABLE,
        `this host has no ${r} cgroup controller (neither v1 nor v2): cannot limit ${r}`,
      );
    }
    return d;
  }

  /**
   * Sets `limits` on cgroups made earlier (a warm machine slot's, made before its job was known).
   * Throws LIMITS_UNAVAILABLE when one cannot be set.
   */
  setLimits(limits: CgroupLimits): void {
    try {
      this.apply(limits);
    } catch (e) {
      if (e instanceof AirlockError) throw e;
      throw new AirlockError(
        ErrorCode.LIMITS_UNAVAILABLE,
        `cannot set the limits of ${this.id}: ${(e as Error).message}`,
        { cause: e },
      );
    }
  }

  private apply(l: CgroupLimits): void {
    const w = (dir: string, file: string, value: string): void => writeFileSync(path.join(dir, file), value);
    if (l.memoryMb !== undefined) {
      const bytes = String(Math.round(l.memoryMb * 1024 * 1024));
      const { dir, v } = this.need("memory");
      if (v === "v2") {
        w(dir, "memory.max", bytes);
        if (existsSync(path.join(dir, "memory.swap.max"))) w(dir, "memory.swap.max", "0");
        // One process over the limit takes the whole machine down, not one victim.
        w(dir, "memory.oom.group", "1");
      } else {
        w(dir, "memory.limit_in_bytes", bytes);
        // memsw = memory + swap: equal means no swap. Without swap accounting, swappiness 0.
        if (existsSync(path.join(dir, "memory.memsw.limit_in_bytes")))
          w(dir, "memory.memsw.limit_in_bytes", bytes);
        else w(dir, "memory.swappiness", "0");
        // v1 has no memory.oom.group: instead of the kernel killing one victim (and the step going
        // on without it), processes over the limit wait (under_oom 1) until the watcher kills the
        // whole machine.
        w(dir, "memory.oom_control", "1");
      }
    }
    if (l.pids !== undefined) w(this.need("pids").dir, "pids.max", String(Math.max(1, Math.floor(l.pids))));
    if (l.cpus !== undefined) {
      const quota = String(Math.max(1000, Math.round(l.cpus * CPU_PERIOD_US)));
      const { dir, v } = this.need("cpu");
      if (v === "v2") w(dir, "cpu.max", `${quota} ${CPU_PERIOD_US}`);
      else {
        w(dir, "cpu.cfs_period_us", String(CPU_PERIOD_US));
        w(dir, "cpu.cfs_quota_us", quota);
      }
    }
  }

  /** Which limit the machine went over, from the kernel's counters (pids first: a fork bomb also eats memory). */
  async hit(): Promise<LimitHit | undefined> {
    const pids = this.dirFor("pids");
    if (pids && counter(await readOr(path.join(pids.dir, "pids.events")), "max") > 0) return "pids";
    const mem = this.dirFor("memory");
    if (mem) {
      if (mem.v === "v2") {
        const ev = await readOr(path.join(mem.dir, "memory.events"));
        if (counter(ev, "oom_kill") > 0 || counter(ev, "oom_group_kill") > 0) return "memory";
      } else {
        const oom = await readOr(path.join(mem.dir, "memory.oom_control"));
        if (counter(oom, "under_oom") > 0 || counter(oom, "oom_kill") > 0) return "memory";
      }
    }
    return undefined;
  }

  /** Reads the counters every WATCH_INTERVAL_MS and calls `onHit` once; returns the stop function. */
  watch(onHit: (hit: LimitHit) => void): () => void {
    let busy = false;
    let stopped = false;
    const timer = setInterval(() => {
      if (busy || stopped) return;
      busy = true;
      this.hit()
        .then((h) => {
          if (h && !stopped) {
            stop();
            onHit(h);
          }
        })
        .catch(() => undefined)
        .finally(() => (busy = false));
    }, WATCH_INTERVAL_MS);
    timer.unref();
    const stop = (): void => {
      stopped = true;
      clearInterval(timer);
    };
    return stop;
  }

  /** Pids of every process in the machine's cgroups. */
  async pids(): Promise<number[]> {
    const all = new Set<number>();
    for (const f of this.procs) {
      for (const l of (await readOr(f)).split("\n")) if (l.trim() !== "") all.add(Number(l));
    }
    return [...all];
  }

  /** Kills every process of the machine and waits until none is left (a fork bomb included). */
  async killAll(): Promise<void> {
    const pids = this.dirFor("pids");
    // No new process from here on (a fork bomb stops growing).
    if (pids) await fsp.writeFile(path.join(pids.dir, "pids.max"), "0").catch(() => undefined);
    const killFile = this.v2Dir ? path.join(this.v2Dir, "cgroup.kill") : undefined;
    const hasKill = killFile !== undefined && existsSync(killFile);
    const freezer = this.v1Dirs.get("freezer");
    const deadline = Date.now() + KILL_DEADLINE_MS;
    for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
      if (hasKill) await fsp.writeFile(killFile, "1").catch(() => undefined);
      else if (freezer) await this.killFrozen(freezer);
      const left = await this.pids();
      if (left.length === 0) return;
      // Without cgroup.kill or freezer (or for what they missed): by pid.
      if (!hasKill && !freezer) for (const p of left) killPid(p);
      if (Date.now() > deadline) {
        throw new AirlockError(
          ErrorCode.MACHINE_FAILED,
          `${this.id}: ${left.length} process(es) would not die (pids ${left.slice(0, 5).join(", ")})`,
        );
      }
      await sleep(delay);
    }
  }

  /** v1: freeze (nothing forks, exits or reuses a pid), SIGKILL every member, thaw so they die. */
  private async killFrozen(dir: string): Promise<void> {
    const state = path.join(dir, "freezer.state");
    await fsp.writeFile(state, "FROZEN").catch(() => undefined);
    for (let i = 0; i < 200; i++) {
      if ((await readOr(state)).trim() !== "FREEZING") break;
      await sleep(1);
    }
    for (const p of await this.pids()) killPid(p);
    await fsp.writeFile(state, "THAWED").catch(() => undefined);
  }

  /** Kills everything and removes the folders. Idempotent; nothing of the machine is left after. */
  remove(): Promise<void> {
    this.removed ??= (async () => {
      await this.killAll();
      const deadline = Date.now() + KILL_DEADLINE_MS;
      for (const d of [...this.dirs].reverse()) {
        for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
          try {
            await fsp.rmdir(d);
            break;
          } catch (e) {
            const code = (e as NodeJS.ErrnoException).code;
            if (code === "ENOENT") break;
            // EBUSY: the kernel releases a cgroup shortly after its last process is gone.
            if (code !== "EBUSY" || Date.now() > deadline) throw e;
            await sleep(delay);
          }
        }
      }
    })();
    return this.removed;
  }

  private removeDirsNow(): void {
    for (const d of [...this.dirs].reverse()) {
      try {
        // rmdir of an empty cgroup is all it takes (its files are not real files).
        rmdirSync(d);
      } catch {
        // best effort: nothing was started in it
      }
    }
  }
}

/** Machine cgroups older than this with no process in them are left-overs (see sweepStale). */
const STALE_MS = 60_000;

/**
 * Removes the empty machine cgroups (`<prefix>*`) under `parent` in every hierarchy that are older
 * than a minute: what a process that ended without cleaning up left behind (its warm slots, or its
 * machines after a crash). A cgroup with a process in it cannot be removed (the kernel refuses),
 * so a live machine is never touched; the age keeps a slot being made right now out of reach.
 * Returns how many were removed.
 */
export function sweepStale(
  layout: CgroupLayout,
  parent: string,
  prefix: string,
  olderThanMs: number = STALE_MS,
): number {
  let removed = 0;
  const roots = [layout.v2, ...layout.v1.values()].filter((m): m is string => m !== undefined);
  for (const root of new Set(roots)) {
    const dir = path.join(root, parent);
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names) {
      if (!n.startsWith(prefix)) continue;
      const d = path.join(dir, n);
      try {
        const st = statSync(d);
        // (0: any age; Date.now() is whole milliseconds, a fresh mtime may read as "in the future")
        if (!st.isDirectory() || (olderThanMs > 0 && Date.now() - st.mtimeMs < olderThanMs)) continue;
        if (readFileSync(path.join(d, "cgroup.procs"), "utf8").trim() !== "") continue;
        rmdirSync(d);
        removed++;
      } catch {
        // busy, gone meanwhile, or not ours to remove
      }
    }
  }
  return removed;
}

function mountOf(layout: CgroupLayout, dir: string): string {
  const mounts = [layout.v2, ...layout.v1.values()].filter((m): m is string => m !== undefined);
  return mounts.filter((m) => dir.startsWith(m + "/")).sort((a, b) => b.length - a.length)[0] ?? dir;
}

function killPid(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // gone already
  }
}

async function readOr(file: string): Promise<string> {
  try {
    return await fsp.readFile(file, "utf8");
  } catch {
    return "";
  }
}

/** The value of `key` in a flat-keyed cgroup file ("max 3\n", "oom_kill 1\n"). */
export function counter(text: string, key: string): number {
  const m = new RegExp(`^${key} (\\d+)$`, "m").exec(text);
  return m ? Number(m[1]) : 0;
}
