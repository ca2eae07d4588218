// VM provisioner: each machine is a fresh, single-use QEMU microVM (qemu.ts) booting the host's
// Debian cloud kernel with our own initramfs (initramfs.ts, init-script.ts), the job image as a
// shared read-only ext4 disk and a private scratch disk (disks.ts). The guest's PID 1,
// airlock-guest, runs every operation as the job user over one virtio-serial port (channel.ts).
//
// Acceleration: KVM when /dev/kvm works, else TCG (software emulation, ~20× slower to boot).
// "auto" probes once per process with a boot that powers off as soon as the kernel has loaded its
// modules: a host whose /dev/kvm exists but hangs guests (nested virtualisation without support)
// falls back to TCG after the probe's deadline. Limits: memory = guest RAM (+ GUEST_KERNEL_MB), cpus = vCPUs (rounded
// up), disk = scratch disk size, pids = a cgroup pids.max inside the guest, nofile = rlimit of
// each process. Not enforced on the host side: QEMU's own CPU use is not capped by a cgroup.
import { randomBytes } from "node:crypto";
import { accessSync, constants, existsSync, lstatSync, promises as fsp, readdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import { nativeBinary } from "../../native/index.js";
import type { Machine, MachineSpec, Provisioner } from "../types.js";
import { pruneCache, touch } from "./cache.js";
import { DEFAULT_DISK_MB, ensureNodeDisk, ensureRootDisk, makeScratchDisk, rootDiskPath } from "./disks.js";
import { ensureInitramfs } from "./initramfs.js";
import { VmMachine } from "./machine.js";
import { boot, type Accel, type Booted, type BootSpec } from "./qemu.js";

export interface VmProvisionerOptions {
  /** Folder of the machines' private folders; default `<tmpdir>/airlock-vms`. */
  baseDir?: string;
  /** Cache of shared disks and the initramfs; default `<images dir>/vm` next to the image's rootfs. */
  cacheDir?: string;
  /** "auto" (default, or AIRLOCK_VM_ACCEL): KVM if a probe boot works, else TCG. */
  accel?: Accel | "auto";
  /** Guest kernel; default the newest /boot/vmlinuz-*-cloud-amd64. */
  kernel?: string;
  /** Guest RAM when the machine has no memory limit (MiB); default 2048. */
  defaultMemoryMb?: number;
  /** Boot deadline (ms); default 120 s under TCG, 20 s under KVM. One retry after a timeout. */
  bootDeadlineMs?: number;
  nativeDir?: string;
  /** Extra kernel arguments, after ours (benchmarks: "loglevel=7" shows the kernel's milestones). */
  kernelArgs?: string[];
  /** Called with each boot's figures (for measurements). */
  onBoot?(t: { accel: Accel; spawnToReadyMs: number; guestUptimeS: number }): void;
}

const QEMU = "/usr/bin/qemu-system-x86_64";
const BUSYBOX = "/bin/busybox";
const KVM_PROBE_MS = 5000;
const JOB_IDS = { uid: 1001, gid: 1001 };
/**
 * Guest RAM = the job's memory limit + this, for the guest kernel itself (its page tables, task
 * structs, the image's page cache): what a sandbox's memory cgroup does not count either.
 */
export const GUEST_KERNEL_MB = 256;

interface Ready {
  kernel: string;
  initramfs: string;
  accel: Accel;
}

let probed: Promise<Accel> | undefined;

function findKernel(): string | undefined {
  const names = existsSync("/boot")
    ? readdirSync("/boot").filter((n) => /^vmlinuz-.*-cloud-amd64$/.test(n))
    : [];
  const newest = names.sort((a, b) => a.localeCompare(b, undefined, { numeric: true })).pop();
  return newest ? path.join("/boot", newest) : undefined;
}

function kvmUsable(): boolean {
  try {
    accessSync("/dev/kvm", constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** One line for the node's start-up report: how machines of this provisioner boot here. */
export async function describeVm(opts: VmProvisionerOptions = {}): Promise<string> {
  const r = await prepare(opts, opts.cacheDir ?? path.join(os.tmpdir(), "airlock-vm-cache"));
  const why =
    r.accel === "kvm"
      ? "KVM"
      : kvmUsable()
        ? "TCG (/dev/kvm does not boot guests)"
        : "TCG (no usable /dev/kvm)";
  return `vm: ${why}, microvm, kernel ${path.basename(r.kernel)}; limits: memory = guest RAM (+${GUEST_KERNEL_MB} MiB for the guest kernel), cpus = vCPUs, disk = scratch disk, pids/nofile inside the guest`;
}

async function prepare(opts: VmProvisionerOptions, cacheDir: string): Promise<Ready> {
  if (!existsSync(QEMU)) {
    throw new AirlockError(
      ErrorCode.MACHINE_UNSUPPORTED,
      "the vm provisioner needs qemu-system-x86; install it first",
    );
  }
  const kernel = opts.kernel ?? findKernel();
  if (!kernel || !existsSync(kernel)) {
    throw new AirlockError(
      ErrorCode.MACHINE_UNSUPPORTED,
      "the vm provisioner needs linux-image-cloud-amd64 (/boot/vmlinuz-*-cloud-amd64)",
    );
  }
  const kernelVersion = path.basename(kernel).replace(/^vmlinuz-/, "");
  const initramfs = await ensureInitramfs(cacheDir, {
    kernelVersion,
    busybox: BUSYBOX,
    guestHelper: nativeBinary("airlock-guest", opts.nativeDir),
  });
  const want = opts.accel ?? (process.env.AIRLOCK_VM_ACCEL as Accel | "auto" | undefined) ?? "auto";
  let accel: Accel = want === "kvm" ? "kvm" : "tcg";
  if (want === "auto") accel = await (probed ??= probeKvm(kernel, initramfs));
  return { kernel, initramfs, accel };
}

/** KVM if a probe boot under KVM reaches the init script within KVM_PROBE_MS. */
async function probeKvm(kernel: string, initramfs: string): Promise<Accel> {
  if (!kvmUsable()) return "tcg";
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), "airlock-kvm-probe-"));
  try {
    await boot({ ...bootBase(kernel, initramfs, dir, "kvm"), deadlineMs: KVM_PROBE_MS, probe: true });
    return "kvm";
  } catch {
    return "tcg";
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

function bootBase(kernel: string, initramfs: string, dir: string, accel: Accel): BootSpec {
  return {
    qemu: QEMU,
    accel,
    kernel,
    initramfs,
    dir,
    memoryMb: 256,
    cpus: 1,
    disks: [],
    params: {},
    extraArgs: [],
    targets: [],
    deadlineMs: 0,
  };
}

export function createVmProvisioner(opts: VmProvisionerOptions = {}): Provisioner {
  const baseDir = path.resolve(opts.baseDir ?? path.join(os.tmpdir(), "airlock-vms"));
  let closed = false;
  let ready: Promise<Ready> | undefined;
  /** Cache folders pruned by this provisioner (at its first machine there, and after a new root disk). */
  const pruned = new Set<string>();

  return {
    name: "vm",
    // Also what the node reports: KVM or TCG, and why.
    describe: async () => (await describeVm(opts)).replace(/^vm: /, ""),
    async create(spec: MachineSpec): Promise<Machine> {
      if (closed) throw new AirlockError(ErrorCode.MACHINE_FAILED, "the vm provisioner is closed");
      if (spec.root.kind !== "image") {
        throw new AirlockError(
          ErrorCode.MACHINE_UNSUPPORTED,
          "the vm provisioner needs a job image (not the host's root)",
        );
      }
      if (spec.jobContainer) {
        throw new AirlockError(
          ErrorCode.MACHINE_UNSUPPORTED,
          "job containers need the container provisioner",
        );
      }
      const rootfs = path.resolve(spec.root.path);
      if (!lstatSync(rootfs, { throwIfNoEntry: false })?.isDirectory()) {
        throw new AirlockError(ErrorCode.CONFIG_INVALID, `image ${rootfs} is not a rootfs folder`);
      }
      const cacheDir = opts.cacheDir ?? path.join(path.dirname(path.dirname(rootfs)), "vm");
      // Another agent sharing the cache may have pruned our initramfs while we were idle: build it
      // again; else mark it used, so no pruning takes it before QEMU opens it.
      if (ready && !(await ready.then((x) => existsSync(x.initramfs)).catch(() => true))) ready = undefined;
      ready ??= prepare(opts, cacheDir);
      const r = await ready.catch((e: unknown) => {
        ready = undefined;
        throw e;
      });
      await touch(r.initramfs);
      const fresh = !existsSync(rootDiskPath(cacheDir, rootfs));
      const [rootDisk, nodeDisk] = await Promise.all([
        ensureRootDisk(cacheDir, rootfs),
        ensureNodeDisk(cacheDir),
      ]);
      if (fresh || !pruned.has(cacheDir)) {
        pruned.add(cacheDir);
        // Old images' root disks, old node disks and initramfs builds (see cache.ts); never fatal.
        await pruneCache(cacheDir, {
          imagesDir: path.dirname(path.dirname(rootfs)),
          keep: [r.initramfs, nodeDisk, rootDisk],
        }).catch(() => undefined);
      }
      await fsp.mkdir(baseDir, { recursive: true, mode: 0o700 });
      const id = `vm-${randomBytes(6).toString("hex")}`;
      const dir = path.join(baseDir, id);
      await fsp.mkdir(dir, { mode: 0o700 });
      try {
        const limits = spec.limits ?? {};
        const scratch = path.join(dir, "scratch.img");
        await makeScratchDisk(
          path.join(cacheDir, "scratch-skel"),
          scratch,
          limits.diskMb ?? DEFAULT_DISK_MB,
          JOB_IDS,
        );
        const home = homeOf(rootfs);
        const params: Record<string, string> = { home };
        if (limits.nofile !== undefined) params.nofile = String(limits.nofile);
        if (limits.pids !== undefined) params.pids = String(limits.pids);
        if (limits.tmpMb !== undefined) params.tmp = String(limits.tmpMb);
        if (limits.shmMb !== undefined) params.shm = String(limits.shmMb);
        if (spec.egress) params.egress = "1";
        if (spec.services) params.services = "1";
        if (spec.nestedUserns === true) params.userns = "1";
        const b: BootSpec = {
          ...bootBase(r.kernel, r.initramfs, dir, r.accel),
          memoryMb: (limits.memoryMb ?? opts.defaultMemoryMb ?? 2048) + GUEST_KERNEL_MB,
          cpus: Math.max(1, Math.ceil(limits.cpus ?? 1)),
          disks: [
            { serial: "root", file: rootDisk, readOnly: true },
            { serial: "scratch", file: scratch, readOnly: false },
            { serial: "node", file: nodeDisk, readOnly: true },
          ],
          params,
          extraArgs: opts.kernelArgs ?? [],
          targets: [spec.egress?.proxySocket, spec.services?.socket],
          deadlineMs: opts.bootDeadlineMs ?? (r.accel === "kvm" ? 20_000 : 120_000),
        };
        let booted: Booted;
        try {
          booted = await boot(b);
        } catch {
          booted = await boot(b); // one retry: a rare early hang of the guest
        }
        opts.onBoot?.({ accel: r.accel, ...booted.timing });
        return new VmMachine({
          id,
          dir,
          spec,
          home,
          ...booted,
          memoryMb: b.memoryMb - GUEST_KERNEL_MB,
          diskMb: limits.diskMb ?? DEFAULT_DISK_MB,
        });
      } catch (e) {
        await fsp.rm(dir, { recursive: true, force: true });
        throw e;
      }
    },
    close(): Promise<void> {
      closed = true;
      return Promise.resolve();
    },
  };
}

/** /home/runner when the image has it as a real folder, else /airlock/home. */
function homeOf(rootfs: string): string {
  const real = (p: string): boolean =>
    lstatSync(path.join(rootfs, p), { throwIfNoEntry: false })?.isDirectory() === true;
  return real("home") && real("home/runner") ? "/home/runner" : "/airlock/home";
}
