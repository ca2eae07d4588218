// Size-limited private filesystems for machines: this kernel may have no filesystem quotas, so each
// machine's private folder (workspace, temp, home, tool cache) is its own ext4 filesystem in a
// sparse file, loop-mounted. Filling it fills that file up to its size and no further: the host's
// disk keeps the rest. Needs root (mount, loop devices).
//
// Making one costs ~30-60 ms (truncate, mkfs.ext4 without journal, mount -o loop), too much for the
// job start path, so the pool keeps `warm` filesystems per size ready — formatted, mounted, with
// their subfolders made — and makes new ones in the background, one at a time. A size is kept
// warm once it has been asked for (or listed in `sizes`). Release = umount (the loop device goes
// with it: mount -o loop sets autoclear) and delete the file. `close()` releases the warm ones.
//
// Each pool lives in its own folder `<dir>/<pid>-<random>`; at start a pool removes the folders
// (and unmounts the filesystems) of pools whose process is gone: what a crash left behind. A
// process that exits without close() (or with machines still alive) unmounts them on 'exit'.
import { execFile, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promises as fsp, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { AirlockError, ErrorCode } from "../../errors/index.js";

const run = promisify(execFile);
const MiB = 1024 * 1024;
/** Background refills start this long after the take that asked for them. */
const REFILL_DELAY_MS = 25;

export interface DiskPoolOptions {
  /** Host folder of the pools (root's; each pool makes its own subfolder). */
  dir: string;
  /** Owner of each filesystem's root folder. */
  owner?: { uid: number; gid: number };
  /** Filesystems kept ready per size (default 2; 0: always make on demand). */
  warm?: number;
  /** Sizes (MiB) to keep warm from the start. */
  sizes?: number[];
  /** At most this many sizes are kept warm (the most recently asked); default 4. */
  maxSizes?: number;
  /** Run on a fresh filesystem's root before it is handed out (e.g. make subfolders). */
  prepare?(root: string): void;
  /** Where background failures are reported (one line each). */
  warn?(line: string): void;
}

export interface Disk {
  /** The mounted filesystem's root on the host. */
  readonly dir: string;
  readonly sizeMb: number;
  /** True when taken from the warm pool. */
  readonly warm: boolean;
  /** True when the filesystem is (nearly) full: blocks or inodes. */
  full(): Promise<boolean>;
  /** Unmounts and deletes it. Idempotent. Every process using it must be gone. */
  release(): Promise<void>;
}

export class DiskPool {
  private readonly root: string;
  private readonly ready = new Map<number, Disk[]>();
  private readonly wanted: number[] = [];
  private readonly warm: number;
  private readonly maxSizes: number;
  private serial = 0;
  private background: Promise<void> = Promise.resolve();
  private closed = false;
  private started: Promise<void> | undefined;
  /** Every filesystem made and not yet released (warm or taken): unmounted at process exit. */
  private readonly live = new Map<string, string>(); // mount point → image
  /** Mounts under way: mount point → image and the mount process. */
  private readonly mounting = new Map<string, { image: string; pid: number | undefined }>();
  private readonly onExit = (): void => this.releaseAllNow();

  constructor(private readonly o: DiskPoolOptions) {
    this.root = path.join(o.dir, `${process.pid}-${randomBytes(4).toString("hex")}`);
    this.warm = o.warm ?? 2;
    this.maxSizes = o.maxSizes ?? 4;
    for (const s of o.sizes ?? []) this.want(s);
  }

  /** Creates the pool's folder, sweeps dead pools' leftovers, starts warming. Idempotent. */
  start(): Promise<void> {
    this.started ??= (async () => {
      await fsp.mkdir(this.o.dir, { recursive: true, mode: 0o711 });
      await sweepDeadPools(this.o.dir);
      await fsp.mkdir(this.root, { mode: 0o711 });
      process.once("exit", this.onExit);
      this.refill();
    })();
    return this.started;
  }

  /** A filesystem of `sizeMb`: a warm one if there is one, else made now. */
  async take(sizeMb: number): Promise<Disk> {
    if (this.closed) throw new AirlockError(ErrorCode.MACHINE_FAILED, "the disk pool is closed");
    await this.start();
    this.want(sizeMb);
    const disk = this.ready.get(sizeMb)?.shift();
    this.refill();
    return disk ?? (await this.make(sizeMb, false));
  }

  /** Stops warming and releases the warm filesystems (taken ones stay with their machines). */
  async close(): Promise<void> {
    this.closed = true;
    await this.background;
    const all = [...this.ready.values()].flat();
    this.ready.clear();
    await Promise.all(all.map((d) => d.release()));
    await fsp.rmdir(this.root).catch(() => undefined);
    if (this.live.size === 0) process.off("exit", this.onExit);
  }

  /** At process exit (synchronous): detach every mount and delete the images. */
  private releaseAllNow(): void {
    // A mount still running in a child process would land after we are gone: wait for it (at
    // most 10 s: a loaded machine is slow, an exit is not) and add it to what is undone below.
    for (const [mnt, m] of this.mounting) {
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && processRunning(m.pid) && !mountedAt(mnt)) sleepSync(5);
      this.live.set(mnt, m.image);
    }
    this.mounting.clear();
    for (const [mnt, image] of this.live) {
      try {
        execFileSync("umount", ["-l", mnt], { stdio: "ignore" });
      } catch {
        // not mounted any more
      }
      rmSync(image, { force: true });
      rmSync(mnt, { recursive: true, force: true });
    }
    this.live.clear();
    rmSync(this.root, { recursive: true, force: true });
  }

  private want(sizeMb: number): void {
    const i = this.wanted.indexOf(sizeMb);
    if (i >= 0) this.wanted.splice(i, 1);
    this.wanted.unshift(sizeMb);
    for (const old of this.wanted.splice(this.maxSizes)) {
      const drop = this.ready.get(old) ?? [];
      this.ready.delete(old);
      for (const d of drop) void d.release();
    }
  }

  /** Queues background work until every wanted size has `warm` ready (one filesystem at a time). */
  private refill(): void {
    if (this.warm === 0 || this.closed || this.started === undefined) return;
    this.background = this.background.then(async () => {
      // Not on the path of the start that took a disk: spawning mkfs and mount blocks our event
      // loop ~1-2 ms each, and they compete for the CPU with that machine's bubblewrap.
      await sleep(REFILL_DELAY_MS);
      for (;;) {
        if (this.closed) return;
        const size = this.wanted.find((s) => (this.ready.get(s)?.length ?? 0) < this.warm);
        if (size === undefined) return;
        try {
          const d = await this.make(size, true);
          if (this.closed || !this.wanted.includes(size)) await d.release();
          else this.ready.set(size, [...(this.ready.get(size) ?? []), d]);
        } catch (e) {
          this.o.warn?.(
            `airlock: could not prepare a ${size} MiB machine filesystem: ${(e as Error).message}`,
          );
          return;
        }
      }
    });
  }

  private async make(sizeMb: number, warm: boolean): Promise<Disk> {
    const n = ++this.serial;
    const image = path.join(this.root, `${n}.img`);
    const mnt = path.join(this.root, String(n));
    let mounted = false;
    try {
      const fh = await fsp.open(image, "wx", 0o600);
      try {
        await fh.truncate(sizeMb * MiB);
      } finally {
        await fh.close();
      }
      const owner = this.o.owner ? `,root_owner=${this.o.owner.uid}:${this.o.owner.gid}` : "";
      // No journal (a machine's files die with it), no reserved blocks, one inode per 8 KiB (builds
      // make many small files), inode tables initialised lazily (mkfs in ~15 ms, any size).
      await run("mkfs.ext4", [
        "-q",
        "-F",
        "-m",
        "0",
        "-i",
        "8192",
        "-O",
        "^has_journal",
        "-E",
        `lazy_itable_init=1${owner}`,
        image,
      ]);
      await fsp.mkdir(mnt, { mode: 0o700 });
      const mounting = run("mount", ["-t", "ext4", "-o", "loop,nodev,nosuid,noatime", image, mnt]);
      // Known before it finishes: a process exiting meanwhile waits for this mount and undoes it.
      this.mounting.set(mnt, { image, pid: mounting.child.pid });
      try {
        await mounting;
      } finally {
        this.mounting.delete(mnt);
      }
      mounted = true;
      this.live.set(mnt, image);
      await fsp.chmod(mnt, 0o700);
      await fsp.rm(path.join(mnt, "lost+found"), { recursive: true, force: true });
      this.o.prepare?.(mnt);
    } catch (e) {
      if (mounted) await umount(mnt).catch(() => undefined);
      this.live.delete(mnt);
      await fsp.rm(image, { force: true });
      await fsp.rmdir(mnt).catch(() => undefined);
      throw new AirlockError(
        ErrorCode.LIMITS_UNAVAILABLE,
        `cannot make a ${sizeMb} MiB filesystem: ${oneLine(e)}`,
        { cause: e },
      );
    }
    let released: Promise<void> | undefined;
    return {
      dir: mnt,
      sizeMb,
      warm,
      full: () => isFull(mnt),
      release: () =>
        (released ??= (async () => {
          await umount(mnt);
          this.live.delete(mnt);
          await fsp.rm(image, { force: true });
          await fsp.rmdir(mnt).catch(() => undefined);
        })()),
    };
  }
}

/** True while `pid` runs (not gone, not a zombie waiting to be reaped). */
function processRunning(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\d+ \(.*\) [ZX] /s.test(stat);
  } catch {
    return false;
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** (Nearly) no space or no inode left: what a job that hit the limit leaves behind. */
export async function isFull(dir: string): Promise<boolean> {
  const s = await fsp.statfs(dir);
  const size = s.blocks * s.bsize;
  const free = s.bavail * s.bsize;
  return free < Math.max(MiB, size / 500) || (s.files > 0 && s.ffree === 0);
}

async function umount(mnt: string): Promise<void> {
  try {
    await run("umount", [mnt]);
  } catch {
    // Still busy (a process in D state): detach now, the kernel frees the loop device after it.
    await run("umount", ["-l", mnt]).catch((e: unknown) => {
      if (mountedAt(mnt)) throw e;
    });
  }
}

function mountedAt(dir: string): boolean {
  return mountsUnder(dir).includes(dir);
}

/** Mount points at or under `dir`, deepest first. */
function mountsUnder(dir: string): string[] {
  const out: string[] = [];
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const mp = line.split(" ")[4];
    if (mp === undefined) continue;
    const p = mp.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (p === dir || p.startsWith(dir + "/")) out.push(p);
  }
  return out.sort((a, b) => b.length - a.length);
}

/** Removes pool folders whose process is gone, unmounting what they left mounted. */
async function sweepDeadPools(dir: string): Promise<void> {
  for (const name of await fsp.readdir(dir)) {
    const m = /^(\d+)-[0-9a-f]+$/.exec(name);
    if (!m || alive(Number(m[1]))) continue;
    const p = path.join(dir, name);
    for (const mp of mountsUnder(p)) await umount(mp).catch(() => undefined);
    if (mountsUnder(p).length === 0) await fsp.rm(p, { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function oneLine(e: unknown): string {
  const err = e as { stderr?: string; message?: string };
  const text = (err.stderr ?? "").trim() || (err.message ?? String(e));
  return text.split("\n")[0] ?? text;
}
