// Sandbox provisioner: each machine is a fresh, single-use bubblewrap sandbox (see machine.ts and
// args.ts for the layout). Host identity: when Airlock runs as root, bwrap runs as an unprivileged
// host uid (default 65534 "nobody"), so inside the sandbox uid 1001 maps to host 65534: host files
// owned by root are read-only by DAC as well as by mounts, and root-only files (/etc/shadow) are
// unreadable. Run unprivileged, bwrap runs as Airlock's own uid (weaker: the job can read what
// Airlock can read).
//
// Limits (spec.limits), as root: memory, CPU and processes through one cgroup per machine
// (common/cgroups; bwrap and every step start inside it through airlock-exec --join), the disk
// through a size-limited filesystem per machine from a warm pool (common/disk-pool), /tmp through
// bwrap's --size. Not root: no cgroup and no disk limit, said once in one warning line.
import { execFile } from "node:child_process";
import { chownSync, existsSync, lstatSync, mkdirSync, promises as fsp } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { AirlockError, ErrorCode, isAirlockError } from "../../errors/index.js";
import { nativeBinary } from "../../native/index.js";
import { describeLayout, detectCgroups, type CgroupLayout } from "../common/cgroups/index.js";
import { DiskPool, type Disk } from "../common/disk-pool.js";
import { hasLimits } from "../common/limits.js";
import type { Machine, MachineSpec, Provisioner } from "../types.js";
import { INNER_GID, INNER_UID, SUBDIRS, singleRootBind } from "./args.js";
import { identityFiles } from "./identity.js";
import { innerPaths, startSandbox } from "./machine.js";
import { discard, WarmSlots, type Slot } from "./warm.js";

const RUNNER_HOME = "/home/runner";

export interface SandboxProvisionerOptions {
  /** Host folder for the machines' private folders; default `<tmpdir>/airlock-machines`. */
  baseDir?: string;
  /** Host uid/gid running the sandboxes when Airlock runs as root; default 65534/65534. */
  hostUid?: number;
  hostGid?: number;
  /** Path of the bwrap binary; default: found in the usual system folders. */
  bwrapPath?: string;
  /** Folder of the native helpers (airlock-exec); default dist/native of the package. */
  nativeDir?: string;
  /**
   * Parent of the machines' cgroups, relative to each hierarchy's root (default "airlock":
   * /sys/fs/cgroup/<controller>/airlock/<machine> on v1, /sys/fs/cgroup/airlock/<machine> on v2).
   */
  cgroupParent?: string;
  /** Pre-formatted filesystems kept ready per disk size (default 2); sizes warmed from the start. */
  diskPool?: { warm?: number; sizes?: number[] };
  /** Machine slots (cgroups and waiting helper processes, see warm.ts) kept ready; default 2. */
  warmSlots?: number;
  /** Host cgroup layout (default: this host's); tests pass a reduced one to run the v1 paths. */
  cgroupLayout?: CgroupLayout;
  /** One-line warnings for the operator (default: stderr). */
  warn?(line: string): void;
}

const execFileP = promisify(execFile);
const SEARCH = ["/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin"];

function findBinary(name: string): string | undefined {
  return SEARCH.map((d) => path.join(d, name)).find((p) => existsSync(p));
}

interface Ready {
  bwrap: string;
  nsenter: string;
  /** airlock-exec: PID 1 and every step of every machine run it. */
  exec: string;
  /** The seccomp filter, with and without nested user namespaces allowed. */
  bpf: { nested: Buffer; plain: Buffer };
  layout: CgroupLayout | undefined;
  pool: DiskPool | undefined;
  slots: WarmSlots;
}

export function createSandboxProvisioner(opts: SandboxProvisionerOptions = {}): Provisioner {
  const baseDir = path.resolve(opts.baseDir ?? path.join(os.tmpdir(), "airlock-machines"));
  const asRoot = process.getuid?.() === 0;
  const hostOwner = asRoot ? { uid: opts.hostUid ?? 65534, gid: opts.hostGid ?? 65534 } : undefined;
  const cgroupParent = opts.cgroupParent ?? "airlock";
  const warn = (line: string): void => {
    if (opts.warn) opts.warn(line);
    else process.stderr.write(`${line}\n`);
  };
  let warnedNoRoot = false;
  let closed = false;
  let ready: Promise<Ready> | undefined;

  async function prepare(): Promise<Ready> {
    const bwrap = opts.bwrapPath ?? findBinary("bwrap");
    const nsenter = findBinary("nsenter");
    if (!bwrap || !nsenter) {
      throw new AirlockError(
        ErrorCode.SANDBOX_UNAVAILABLE,
        `sandbox needs ${!bwrap ? "bubblewrap (bwrap)" : "util-linux nsenter"}; install it first`,
      );
    }
    await fsp.mkdir(baseDir, { recursive: true, mode: 0o711 });
    // baseDir may sit in a world-writable folder: refuse anything we do not own (e.g. a planted symlink).
    const st = await fsp.lstat(baseDir);
    if (!st.isDirectory() || st.uid !== process.getuid?.()) {
      throw new AirlockError(ErrorCode.CONFIG_INVALID, `${baseDir} is not a folder owned by this user`);
    }
    // The sandbox uid must traverse baseDir to reach its own (0700) machine folder.
    await fsp.chmod(baseDir, 0o711);
    const exec = nativeBinary("airlock-exec", opts.nativeDir);
    const bpf = { nested: await dumpBpf(exec, true), plain: await dumpBpf(exec, false) };
    const slots = (layout: CgroupLayout | undefined): WarmSlots => {
      const s = new WarmSlots({
        exec,
        layout,
        cgroupParent,
        user: hostOwner,
        ...(opts.warmSlots !== undefined ? { warm: opts.warmSlots } : {}),
        warn,
      });
      s.start();
      return s;
    };
    if (!asRoot)
      return { bwrap, nsenter, exec, bpf, layout: undefined, pool: undefined, slots: slots(undefined) };
    const layout = opts.cgroupLayout ?? detectCgroups();
    if (layout.mode === "none")
      warn("airlock: no cgroup hierarchy mounted: machines get no memory, CPU or process limit");
    const pool = new DiskPool({
      dir: path.join(baseDir, "disks"),
      ...(hostOwner ? { owner: hostOwner } : {}),
      ...(opts.diskPool?.warm !== undefined ? { warm: opts.diskPool.warm } : {}),
      ...(opts.diskPool?.sizes ? { sizes: opts.diskPool.sizes } : {}),
      prepare: (root) => makeSubdirs(root, hostOwner),
      warn,
    });
    await pool.start();
    return { bwrap, nsenter, exec, bpf, layout, pool, slots: slots(layout) };
  }

  async function createOnce(spec: MachineSpec): Promise<Machine> {
    if (closed) throw new AirlockError(ErrorCode.MACHINE_FAILED, "the sandbox provisioner is closed");
    if (spec.jobContainer)
      throw new AirlockError(
        ErrorCode.MACHINE_UNSUPPORTED,
        "job containers (`container:`) are not supported by this provisioner (sandbox): they need the container provisioner",
      );
    ready ??= prepare();
    const r = await ready.catch((e: unknown) => {
      ready = undefined;
      throw e;
    });
    if (spec.root.kind === "image" && !(await isDir(spec.root.path))) {
      throw new AirlockError(ErrorCode.CONFIG_INVALID, `image ${spec.root.path} is not a rootfs folder`);
    }
    const limits = spec.limits ?? {};
    if (!asRoot && hasLimits(spec.limits) && !warnedNoRoot) {
      warnedNoRoot = true;
      warn(
        "airlock: not running as root: machines get no memory, CPU, process or disk size limit (cgroups and loop filesystems need root)",
      );
    }
    let slot: Slot | undefined;
    let disk: Disk | undefined;
    let machineDir: string | undefined;
    try {
      slot = r.slots.take();
      const { id, cgroup } = slot;
      if (r.pool && limits.diskMb !== undefined) {
        disk = await r.pool.take(limits.diskMb);
        machineDir = disk.dir;
      } else {
        // Synchronous on purpose: a dozen tiny syscalls cost ~0.1 ms in a row but ~3 ms as
        // thread-pool round trips, and this is on the path every job start waits for.
        machineDir = path.join(baseDir, id);
        mkdirSync(machineDir, { mode: 0o700 });
        if (hostOwner) chownSync(machineDir, hostOwner.uid, hostOwner.gid);
        makeSubdirs(machineDir, hostOwner);
      }
      cgroup?.setLimits({
        ...(limits.memoryMb !== undefined ? { memoryMb: limits.memoryMb } : {}),
        ...(limits.cpus !== undefined ? { cpus: limits.cpus } : {}),
        ...(limits.pids !== undefined ? { pids: limits.pids } : {}),
      });
      const home = homeOf(spec);
      const image = spec.root.kind === "image" ? spec.root.path : undefined;
      const identity = identityFiles(
        path.join(baseDir, "identity"),
        image ?? "/",
        singleRootBind(image),
        INNER_UID,
        INNER_GID,
        home,
      );
      return await startSandbox({
        id,
        spec,
        limits,
        machineDir,
        baseDir,
        home,
        identity,
        bwrap: r.bwrap,
        nsenter: r.nsenter,
        exec: r.exec,
        bpf: spec.nestedUserns === true ? r.bpf.nested : r.bpf.plain,
        hostOwner,
        cgroup,
        disk,
        init: slot.init,
        firstStep: slot.step,
      });
    } catch (e) {
      if (slot) await discard(slot);
      if (disk) await disk.release().catch(() => undefined);
      else if (machineDir) await fsp.rm(machineDir, { recursive: true, force: true });
      throw e;
    }
  }

  return {
    name: "sandbox",
    async create(spec: MachineSpec): Promise<Machine> {
      // A host-root machine binds the host's folders with their submounts; a container's overlay
      // unmounted while bwrap remounts them read-only fails the start ("Unable to apply mount
      // flags"). Nothing ran yet: such a start is tried again, twice at most.
      for (let tries = 1; ; tries++) {
        try {
          return await createOnce(spec);
        } catch (e) {
          if (tries < 3 && spec.root.kind === "host" && isMountRace(e)) continue;
          throw e;
        }
      }
    },
    describe(): Promise<string> {
      return Promise.resolve(`bubblewrap sandbox (shared kernel); ${describeLimits()}`);
    },
    async close(): Promise<void> {
      closed = true;
      const r = await ready?.catch(() => undefined);
      await r?.slots.close();
      await r?.pool?.close();
    },
  };
}

/** How this provisioner will limit machines on this host, in one line (for the agent's start-up log). */
export function describeLimits(): string {
  if (process.getuid?.() !== 0) return "limits: off (not root)";
  return `limits: ${describeLayout(detectCgroups())}; disk: loop-mounted ext4 per machine`;
}

function makeSubdirs(root: string, owner: { uid: number; gid: number } | undefined): void {
  for (const d of SUBDIRS) {
    const p = path.join(root, d);
    mkdirSync(p, { mode: 0o755 });
    if (owner) chownSync(p, owner.uid, owner.gid);
  }
}

/** The helper's seccomp filter as bwrap --seccomp reads it (computed once per provisioner). */
async function dumpBpf(helper: string, allowUserns: boolean): Promise<Buffer> {
  const args = ["--dump-bpf", ...(allowUserns ? ["--allow-userns"] : [])];
  try {
    const { stdout } = await execFileP(helper, args, { encoding: "buffer", maxBuffer: 1 << 20 });
    if (stdout.length === 0 || stdout.length % 8 !== 0)
      throw new Error(`bad filter (${stdout.length} bytes)`);
    return stdout;
  } catch (e) {
    throw new AirlockError(
      ErrorCode.SANDBOX_UNAVAILABLE,
      `${helper} --dump-bpf failed: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
}

/** /home/runner when the image has it (its runner user's home), else /airlock/home. */
function homeOf(spec: MachineSpec): string {
  if (spec.root.kind !== "image") return innerPaths.home;
  const root = spec.root.path;
  // Real folders only (lstat): a symlink in the image must not redirect where the home is mounted.
  const real = (p: string): boolean =>
    lstatSync(path.join(root, p), { throwIfNoEntry: false })?.isDirectory() === true;
  return real("home") && real(RUNNER_HOME) ? RUNNER_HOME : innerPaths.home;
}

async function isDir(p: string): Promise<boolean> {
  return (await fsp.stat(p).catch(() => undefined))?.isDirectory() ?? false;
}

/**
 * bwrap's start failed because a submount of a bound host folder went away while it was being
 * remounted read-only (a container's overlay coming and going beside the machine).
 */
export function isMountRace(e: unknown): boolean {
  return (
    isAirlockError(e, "MACHINE_FAILED") &&
    /Can't bind mount .* Unable to apply mount flags: remount .*: (Invalid argument|No such file or directory)/.test(
      e.message,
    )
  );
}
