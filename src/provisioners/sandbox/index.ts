// Sandbox provisioner: each machine is a fresh, single-use bubblewrap sandbox (see machine.ts and
// args.ts for the layout). Host identity: when Airlock runs as root, bwrap runs as an unprivileged
// host uid (default 65534 "nobody"), so inside the sandbox uid 1001 maps to host 65534: host files
// owned by root are read-only by DAC as well as by mounts, and root-only files (/etc/shadow) are
// unreadable. Run unprivileged, bwrap runs as Airlock's own uid (weaker: the job can read what
// Airlock can read).
import { randomBytes } from "node:crypto";
import { chownSync, existsSync, mkdirSync, promises as fsp } from "node:fs";
import os from "node:os";
import path from "node:path";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import type { Machine, MachineSpec, Provisioner } from "../types.js";
import { SUBDIRS } from "./args.js";
import { startSandbox } from "./machine.js";

export interface SandboxProvisionerOptions {
  /** Host folder for the machines' private folders; default `<tmpdir>/airlock-machines`. */
  baseDir?: string;
  /** Host uid/gid running the sandboxes when Airlock runs as root; default 65534/65534. */
  hostUid?: number;
  hostGid?: number;
  /** Path of the bwrap binary; default: found in the usual system folders. */
  bwrapPath?: string;
}

const SEARCH = ["/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin"];

function findBinary(name: string): string | undefined {
  return SEARCH.map((d) => path.join(d, name)).find((p) => existsSync(p));
}

export function createSandboxProvisioner(opts: SandboxProvisionerOptions = {}): Provisioner {
  const baseDir = path.resolve(opts.baseDir ?? path.join(os.tmpdir(), "airlock-machines"));
  const asRoot = process.getuid?.() === 0;
  const hostOwner = asRoot ? { uid: opts.hostUid ?? 65534, gid: opts.hostGid ?? 65534 } : undefined;
  let ready: Promise<{ bwrap: string; nsenter: string }> | undefined;

  async function prepare() {
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
    return { bwrap, nsenter };
  }

  return {
    name: "sandbox",
    async create(spec: MachineSpec): Promise<Machine> {
      ready ??= prepare();
      const bins = await ready.catch((e: unknown) => {
        ready = undefined;
        throw e;
      });
      if (spec.root.kind === "image" && !(await isDir(spec.root.path))) {
        throw new AirlockError(ErrorCode.CONFIG_INVALID, `image ${spec.root.path} is not a rootfs folder`);
      }
      const id = `sbx-${randomBytes(6).toString("hex")}`;
      const machineDir = path.join(baseDir, id);
      // Synchronous on purpose: a dozen tiny syscalls cost ~0.1 ms in a row but ~3 ms as thread-pool
      // round trips, and this is on the path every job start waits for.
      mkdirSync(machineDir, { mode: 0o700 });
      try {
        for (const d of SUBDIRS) mkdirSync(path.join(machineDir, d), { mode: 0o755 });
        if (hostOwner) {
          for (const p of [machineDir, ...SUBDIRS.map((d) => path.join(machineDir, d))]) {
            chownSync(p, hostOwner.uid, hostOwner.gid);
          }
        }
        return await startSandbox({ id, spec, machineDir, baseDir, ...bins, hostOwner });
      } catch (e) {
        await fsp.rm(machineDir, { recursive: true, force: true });
        throw e;
      }
    },
  };
}

async function isDir(p: string): Promise<boolean> {
  return (await fsp.stat(p).catch(() => undefined))?.isDirectory() ?? false;
}
