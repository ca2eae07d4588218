// Warm machine slots: what a sandbox machine needs before its job is known, made ahead of time so
// that a job start waits only for bubblewrap itself.
//
// A slot is the machine's id, its (empty, limit-less) cgroups and two zygotes already inside them:
// `airlock-exec --join ... --args-fd N` processes that wait for the rest of their command (see
// native/airlock-exec.c). Moving a process into a cgroup may wait for an RCU grace period (measured
// 10-25 ms on an idle 2-core host: the kernel's cgroup_threadgroup_rwsem), and spawning from a
// large Node process costs ~1-2 ms: both happen here, off the job's path. At create, the first
// zygote becomes bwrap (the machine's PID 1), the second the first step; each step then leaves a
// fresh zygote behind for the next one (machine.ts).
//
// `warm` slots are kept ready (default 2) and refilled one at a time in the background, starting
// REFILL_DELAY_MS after each take. With none ready (a burst of starts) take() makes one on the spot: correct, just slower.
// Zygotes never keep our process alive, and die with it: their args pipe closes, they read end of
// file and exit 0. The empty cgroups such a process leaves behind are swept at the next start.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { zygoteArgs, zygoteBlob } from "../../native/index.js";
import { MachineCgroup, sweepStale, type CgroupLayout } from "../common/cgroups/index.js";

/** The descriptor bwrap's zygote reads its command on (bwrap itself uses 3 for --info-fd, 4 for --seccomp). */
export const INIT_ARGS_FD = 5;
/** A step's zygote: stdin /dev/null, stdout and stderr pipes, its command on 3. */
export const STEP_ARGS_FD = 3;
/**
 * Zygotes are spawned this long after the start that used one: spawning from Node blocks its event
 * loop ~1-2 ms per process, which would otherwise land on the very start it is meant to speed up
 * (delaying the bytes the new machine or step sends back).
 */
export const REFILL_DELAY_MS = 25;

export class Zygote {
  private used = false;
  constructor(
    readonly child: ChildProcess,
    private readonly argsFd: number,
  ) {
    child.on("error", () => undefined);
    (child.stdio[argsFd] as NodeJS.WritableStream | null)?.on("error", () => undefined);
    // A waiting zygote never keeps the process alive (a caller that never closes the provisioner
    // still exits; the zygotes then read end of file and exit too). go() makes it count again.
    this.setRef(false);
  }

  private setRef(on: boolean): void {
    if (on) this.child.ref();
    else this.child.unref();
    for (const s of this.child.stdio) {
      const sock = s as { ref?: () => void; unref?: () => void } | null;
      if (on) sock?.ref?.();
      else sock?.unref?.();
    }
  }

  /** Still waiting for its command. */
  get alive(): boolean {
    return !this.used && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends the rest of the command (options, "--", argv) and the exact environment; once. */
  go(args: readonly string[], env: Readonly<Record<string, string>>): void {
    if (this.used) throw new Error("zygote already used");
    this.used = true;
    this.setRef(true);
    const w = this.child.stdio[this.argsFd] as NodeJS.WritableStream | null;
    w?.end(zygoteBlob(args, env));
  }

  /** Retires an unused zygote (it reads end of file and exits 0). */
  cancel(): void {
    if (this.used) return;
    this.used = true;
    (this.child.stdio[this.argsFd] as NodeJS.WritableStream | null)?.end();
  }
}

export interface ZygoteSpawn {
  exec: string;
  procs: readonly string[];
  user?: { uid: number; gid: number };
}

/** The zygote that becomes bwrap: stdio 0-4 pipes (stdin keeps PID 1 alive; 3 info, 4 seccomp). */
export function spawnInitZygote(z: ZygoteSpawn): Zygote {
  const child = spawn(
    z.exec,
    zygoteArgs({ procs: z.procs, ...(z.user ? { user: z.user } : {}), argsFd: INIT_ARGS_FD }),
    {
      cwd: "/",
      env: { PATH: "/usr/local/bin:/usr/bin:/bin" },
      stdio: ["pipe", "pipe", "pipe", "pipe", "pipe", "pipe"],
    },
  );
  return new Zygote(child, INIT_ARGS_FD);
}

/** A step's zygote, in its own process group (killing the group kills the step). */
export function spawnStepZygote(z: ZygoteSpawn): Zygote {
  const child = spawn(z.exec, zygoteArgs({ procs: z.procs, argsFd: STEP_ARGS_FD }), {
    cwd: "/",
    env: {},
    detached: true,
    stdio: ["ignore", "pipe", "pipe", "pipe"],
  });
  return new Zygote(child, STEP_ARGS_FD);
}

export interface Slot {
  id: string;
  cgroup: MachineCgroup | undefined;
  init: Zygote;
  step: Zygote;
  /** Made on demand (no warm one was ready). */
  cold: boolean;
}

export interface WarmSlotsOptions {
  exec: string;
  layout: CgroupLayout | undefined;
  cgroupParent: string;
  /** Host uid/gid bwrap runs as (root only). */
  user: { uid: number; gid: number } | undefined;
  /** Slots kept ready (default 2; 0: always on demand). */
  warm?: number;
  warn(line: string): void;
}

export class WarmSlots {
  private readonly ready: Slot[] = [];
  private readonly warm: number;
  private filling = false;
  private closed = false;
  private idle: Array<() => void> = [];

  constructor(private readonly o: WarmSlotsOptions) {
    this.warm = Math.max(0, o.warm ?? 2);
  }

  start(): void {
    const { layout } = this.o;
    if (layout && layout.mode !== "none") sweepStale(layout, this.o.cgroupParent, "sbx-");
    this.refill();
  }

  /** A slot for a machine about to start: a warm one when ready, else a new one now. */
  take(): Slot {
    while (this.ready.length > 0) {
      const s = this.ready.shift() as Slot;
      if (s.init.alive && s.step.alive) {
        this.refill();
        return s;
      }
      void discard(s); // a zygote died while waiting (killed from outside): never hand it out
    }
    const s = this.make(true);
    this.refill();
    return s;
  }

  /** How many slots are ready now. */
  get readyCount(): number {
    return this.ready.length;
  }

  /** Resolves once no refill is pending (every slot that could be made is ready). */
  whenIdle(): Promise<void> {
    if (!this.filling) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  /** Retires every warm slot; resolves once their cgroups are removed. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.ready.splice(0).map((s) => discard(s)));
  }

  private make(cold: boolean): Slot {
    const id = `sbx-${randomBytes(6).toString("hex")}`;
    const { layout } = this.o;
    const cgroup =
      layout && layout.mode !== "none"
        ? MachineCgroup.create(layout, this.o.cgroupParent, id, {})
        : undefined;
    const procs = cgroup?.procs ?? [];
    let init: Zygote | undefined;
    try {
      init = spawnInitZygote({ exec: this.o.exec, procs, ...(this.o.user ? { user: this.o.user } : {}) });
      const step = spawnStepZygote({ exec: this.o.exec, procs });
      return { id, cgroup, init, step, cold };
    } catch (e) {
      init?.cancel();
      void cgroup?.remove().catch(() => undefined);
      throw e;
    }
  }

  private refill(): void {
    if (this.filling || this.closed) return;
    this.filling = true;
    setTimeout(() => {
      this.filling = false;
      if (!this.closed && this.ready.length < this.warm) {
        try {
          this.ready.push(this.make(false));
          this.refill();
        } catch (e) {
          // the next take() tries again
          this.o.warn(`airlock: cannot prepare a warm machine slot: ${(e as Error).message}`);
        }
      }
      if (!this.filling) for (const r of this.idle.splice(0)) r();
    }, REFILL_DELAY_MS);
  }
}

/** Retires a slot's zygotes and removes its cgroups (killing whatever is still inside). */
export async function discard(s: Slot): Promise<void> {
  s.init.cancel();
  s.step.cancel();
  await s.cgroup?.remove().catch(() => undefined);
}
