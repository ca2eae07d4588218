// Container provisioner: each machine is a fresh, single-use podman container (rootful podman,
// runc, cgroupfs, Airlock's own containers.conf), laid out like a sandbox machine (args.ts), entered
// for every step like one (machine.ts), with sibling containers for services and Docker actions
// (siblings.ts). As root: rootful podman. Not root: rootless podman as the agent's own user, in
// its subordinate id range, without cgroup or disk limits (rootless.ts).
//
// Identity: each machine gets its own host uid/gid range (65536 ids from a random slot above
// ID_FLOOR, unique among this process's machines; rootless: a slot of the user's subordinate
// range), so uid 0 inside is an unprivileged host uid and two machines never share one.
// Leftovers: containers, volumes and built images carry the labels airlock.machine and
// airlock.owner (<pid>.<start time> of the Airlock process); at start, every one whose owner
// process is gone is removed, with its private folder.
import { existsSync, lstatSync, mkdirSync, chownSync, promises as fsp, writeFileSync } from "node:fs";
import { randomBytes, randomInt } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import { nativeBinary } from "../../native/index.js";
import { DiskPool, type Disk } from "../common/disk-pool.js";
import { EGRESS_PROXY_PORT, JOB_SERVICES_PORT, startRelay, type Relay } from "../common/egress-relay.js";
import { identityFiles } from "../sandbox/identity.js";
import type { Machine, MachineSpec, Provisioner } from "../types.js";
import { containerName, ID_RANGE, INNER_GID, INNER_UID, machineRunArgs, SUBDIRS } from "./args.js";
import { containerCgroups } from "./cgroup.js";
import { ensureRootfsImage } from "./image.js";
import { ContainerMachine, innerPaths, pidTag, removeMachineContainers } from "./machine.js";
import { podmanOptions } from "../../containers/index.js";
import { writeEnvFile, type EnvFile } from "./env-file.js";
import { firstError, Podman, writeContainersConf } from "./podman.js";
import { ensureWorkflowImage, type ContainerRegistry } from "./registry.js";
import {
  checkRootlessHost,
  defaultStorageDir,
  ensureRunDir,
  removeTree,
  rootlessIdMap,
  writeStorageConf,
  type RootlessHost,
} from "./rootless.js";
import { hostsText } from "./siblings.js";
import { sweepLeftovers } from "./sweep.js";
import { volumeArgs } from "./volumes.js";

export type { ContainerRegistry } from "./registry.js";

export interface ContainerProvisionerOptions {
  /** Host folder for the machines' private folders; default `<tmpdir>/airlock-containers`. */
  baseDir?: string;
  /** podman binary; default found in the usual system folders. */
  podmanPath?: string;
  /** Folder of the native helpers (airlock-exec, airlock-relay); default dist/native. */
  nativeDir?: string;
  /**
   * The one registry workflow images (`container:`, `services:`) may be pulled from (registry.ts);
   * absent: local storage only.
   */
  registry?: ContainerRegistry;
  /** Pre-formatted filesystems kept ready per disk size (default 2). */
  diskPool?: { warm?: number; sizes?: number[] };
  /** Rootless only: podman's storage folder (default ~/.local/share/airlock/containers). */
  storageDir?: string;
  /** Rootless only: podman's storage driver (default overlay, native in the kernel since 5.13). */
  storageDriver?: string;
  /** One-line warnings for the operator (default: stderr). */
  warn?(line: string): void;
  /** Called with the time a job image import took (ms), once per import. */
  onImport?(ms: number): void;
}

/** Host uid ranges of machines start here (far above any host user or subuid range in common use). */
const ID_FLOOR = 1 << 30;
const ID_SLOTS = 16000;
const RUNNER_HOME = "/home/runner";
const SEARCH = ["/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin"];

function findBinary(name: string): string | undefined {
  return SEARCH.map((d) => path.join(d, name)).find((p) => existsSync(p));
}

interface Ready {
  podman: Podman;
  nsenter: string;
  helper: string;
  pool: DiskPool | undefined;
  /** Set when the agent is not root (rootless.ts). */
  rootless: RootlessHost | undefined;
}

export function createContainerProvisioner(opts: ContainerProvisionerOptions = {}): Provisioner {
  const uid = process.getuid?.() ?? 0;
  const rootless = uid !== 0;
  const baseDir = path.resolve(
    opts.baseDir ?? path.join(os.tmpdir(), rootless ? `airlock-containers-${uid}` : "airlock-containers"),
  );
  const owner = pidTag(process.pid) ?? `${process.pid}.0`;
  const ownDir = path.join(baseDir, owner);
  const usedSlots = new Set<number>();
  let closed = false;
  let ready: Promise<Ready> | undefined;
  const warn = (line: string): void => (opts.warn ? opts.warn(line) : void process.stderr.write(`${line}\n`));

  async function prepare(): Promise<Ready> {
    const bin = opts.podmanPath ?? findBinary("podman");
    const nsenter = findBinary("nsenter");
    const host = rootless ? checkRootlessHost(bin, findBinary) : undefined;
    if (!bin || !nsenter) {
      throw new AirlockError(
        ErrorCode.SANDBOX_UNAVAILABLE,
        `the container provisioner needs ${!bin ? "podman" : "util-linux nsenter"}; install it first`,
      );
    }
    const helper = nativeBinary("airlock-exec", opts.nativeDir);
    await fsp.mkdir(baseDir, { recursive: true, mode: 0o711 });
    const st = await fsp.lstat(baseDir);
    if (!st.isDirectory() || st.uid !== uid)
      throw new AirlockError(
        ErrorCode.CONFIG_INVALID,
        `${baseDir} is not a folder owned by ${rootless ? os.userInfo().username : "root"}`,
      );
    await fsp.chmod(baseDir, 0o711);
    const conf = path.join(baseDir, "containers.conf");
    writeContainersConf(conf);
    let podman: Podman;
    if (host) {
      const storage = path.resolve(opts.storageDir ?? defaultStorageDir(host.home));
      const runDir = await ensureRunDir(storage);
      const storageConf = path.join(baseDir, "storage.conf");
      writeStorageConf(storageConf, storage, runDir, opts.storageDriver ?? "overlay");
      podman = new Podman(bin, conf, baseDir, { home: host.home, runDir, storageConf });
    } else podman = new Podman(bin, conf);
    await sweepLeftovers(podman, baseDir, owner, host ? (d) => removeTree(podman, d) : undefined);
    await fsp.mkdir(ownDir, { mode: 0o711 }).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== "EEXIST") throw e;
    });
    if (host) {
      // Loop-mounted disks and cgroups podman could fill need root (or delegation): say so once.
      warn(
        `container provisioner: rootless podman as ${host.user} (not root): no memory, CPU, ` +
          `process-count or disk limits (no cgroup delegation); at most ${host.slots} machines at once`,
      );
      return { podman, nsenter, helper, pool: undefined, rootless: host };
    }
    const pool = new DiskPool({
      dir: path.join(baseDir, "disks"),
      ...(opts.diskPool?.warm !== undefined ? { warm: opts.diskPool.warm } : {}),
      ...(opts.diskPool?.sizes ? { sizes: opts.diskPool.sizes } : {}),
      prepare: (root) => {
        for (const d of SUBDIRS) mkdirSync(path.join(root, d), { mode: 0o755 });
      },
      warn,
    });
    await pool.start();
    return { podman, nsenter, helper, pool, rootless: undefined };
  }

  function takeSlot(host: RootlessHost | undefined): number {
    if (host) {
      // Rootless: the first free slot of the user's range; none free is a refusal, never a share.
      for (let s = 0; s < host.slots; s++) {
        if (!usedSlots.has(s)) {
          usedSlots.add(s);
          return s;
        }
      }
      throw new AirlockError(
        ErrorCode.MACHINE_FAILED,
        `all ${host.slots} subordinate id ranges of ${host.user} are in use by running machines`,
      );
    }
    for (;;) {
      const s = randomInt(ID_SLOTS);
      if (!usedSlots.has(s)) {
        usedSlots.add(s);
        return s;
      }
    }
  }

  return {
    name: "container",
    async describe(): Promise<string> {
      ready ??= prepare();
      const r = await ready;
      const v = (await r.podman.run(["version", "--format", "{{.Client.Version}}"])).stdout.trim();
      if (r.rootless) {
        return (
          `podman ${v || "?"} rootless containers (runc) as ${r.rootless.user}, a user namespace per ` +
          `machine in its subordinate range, no capabilities, no memory/CPU/disk limits (no cgroup delegation), shared kernel`
        );
      }
      return `podman ${v || "?"} containers (runc), a user namespace per machine, no capabilities, shared kernel`;
    },
    async create(spec: MachineSpec): Promise<Machine> {
      if (closed) throw new AirlockError(ErrorCode.MACHINE_FAILED, "the container provisioner is closed");
      if (spec.root.kind === "host") {
        throw new AirlockError(
          ErrorCode.MACHINE_UNSUPPORTED,
          "the container provisioner has no host-root machines; use an image",
        );
      }
      ready ??= prepare();
      const r = await ready.catch((e: unknown) => {
        ready = undefined;
        throw e;
      });
      const limits = spec.limits ?? {};
      const id = `ctr-${randomBytes(6).toString("hex")}`;
      const host = r.rootless;
      const slot = takeSlot(host);
      // Rootless: ids of podman's namespace (1.. are the user's subordinate ids); the job's user is
      // the agent's own uid there (rootless.ts), so the host folders stay the agent's.
      const idBase = host ? 1 + slot * ID_RANGE : ID_FLOOR + slot * ID_RANGE;
      const hostOwner = host
        ? { uid, gid: process.getgid?.() ?? 0 }
        : { uid: idBase + INNER_UID, gid: idBase + INNER_GID };
      const removeDir = host
        ? (d: string) => removeTree(r.podman, d)
        : (d: string) => fsp.rm(d, { recursive: true, force: true });
      const stateDir = path.join(ownDir, id);
      let disk: Disk | undefined;
      const relays: Relay[] = [];
      let started = false;
      let envFile: EnvFile | undefined;
      try {
        const job = spec.jobContainer;
        const image = job
          ? await ensureWorkflowImage(
              r.podman,
              job.image,
              opts.registry,
              job.credentials ? () => job.credentials!(id) : undefined,
            )
          : await ensureRootfsImage(r.podman, spec.root.path, (ms) => opts.onImport?.(ms));
        mkdirSync(stateDir, { mode: 0o711 });
        let machineDir = path.join(stateDir, "files");
        if (r.pool && limits.diskMb !== undefined) {
          disk = await r.pool.take(limits.diskMb);
          machineDir = disk.dir;
        } else {
          mkdirSync(machineDir, { mode: 0o711 });
          for (const d of SUBDIRS) mkdirSync(path.join(machineDir, d), { mode: 0o755 });
        }
        for (const d of SUBDIRS) chownSync(path.join(machineDir, d), hostOwner.uid, hostOwner.gid);
        const hostsFile = path.join(stateDir, "hosts");
        writeFileSync(hostsFile, hostsText([]), { mode: 0o644 });
        const rootfs = job ? undefined : spec.root.path;
        const home =
          rootfs !== undefined && realDir(rootfs, "home") && realDir(rootfs, RUNNER_HOME)
            ? RUNNER_HOME
            : innerPaths.home;
        const identity =
          rootfs !== undefined
            ? identityFiles(path.join(baseDir, "identity"), rootfs, true, INNER_UID, INNER_GID, home)
            : undefined;
        const options = job
          ? podmanOptions(job.options, "job", "container", job.allowOptions)
          : { args: [], env: {} };
        envFile = writeEnvFile(r.podman.privateDir, { ...options.env, ...job?.env });
        const volumes = job
          ? await volumeArgs(
              {
                podman: r.podman,
                id,
                owningLabel: owner,
                workspace: { inner: innerPaths.workspace, host: path.join(machineDir, "workspace") },
                owner: hostOwner,
              },
              job.volumes,
            )
          : [];
        const args = machineRunArgs({
          id,
          owner,
          image,
          idBase,
          machineDir,
          home,
          helper: r.helper,
          hostsFile,
          ...(identity && identity.mount === "bind" ? { identity } : {}),
          limits,
          extra: [...envFile.args, ...options.args],
          volumes,
          ...(host ? { idMap: rootlessIdMap(slot), cgroupLimits: false } : {}),
        });
        started = true;
        const out = await r.podman.run(args);
        envFile.remove();
        if (out.code !== 0)
          throw new AirlockError(
            ErrorCode.MACHINE_FAILED,
            `container ${containerName(id)} could not start: ${firstError(out.stderr)}`,
          );
        const pidText = await r.podman.ok(
          ["inspect", "--format", "{{.State.Pid}}", containerName(id)],
          "podman inspect",
        );
        const pid = Number(pidText.trim());
        if (!Number.isInteger(pid) || pid <= 0)
          throw new AirlockError(ErrorCode.MACHINE_FAILED, `container ${containerName(id)} is not running`);
        const relay = (socket: string, port: number) =>
          startRelay({ nsenter: r.nsenter, targetPid: pid, proxySocket: socket, userns: rootless, port });
        if (spec.egress) relays.push(await relay(spec.egress.proxySocket, EGRESS_PROXY_PORT));
        if (spec.services) relays.push(await relay(spec.services.socket, JOB_SERVICES_PORT));
        return new ContainerMachine({
          id,
          spec,
          limits,
          podman: r.podman,
          helper: r.helper,
          machineDir,
          stateDir,
          home,
          pid,
          pidTag: pidTag(pid),
          cgroups: host ? { procs: [] } : containerCgroups(pid),
          owner: hostOwner,
          idBase,
          relays,
          forward: (listen, to) =>
            startRelay({
              nsenter: r.nsenter,
              targetPid: pid,
              userns: rootless,
              port: listen,
              connectPort: to,
            }),
          disk,
          hostsFile,
          owningLabel: owner,
          registry: opts.registry,
          released: () => usedSlots.delete(slot),
          cgroupLimits: !host,
          removeDir,
        });
      } catch (e) {
        envFile?.remove();
        for (const x of relays) x.kill();
        if (started) await removeMachineContainers(r.podman, id).catch(() => undefined);
        if (disk) await disk.release().catch(() => undefined);
        await removeDir(stateDir).catch(() => undefined);
        usedSlots.delete(slot);
        throw e;
      }
    },
    async close(): Promise<void> {
      closed = true;
      const r = await ready?.catch(() => undefined);
      await r?.pool?.close();
    },
  };
}

function realDir(root: string, p: string): boolean {
  return lstatSync(path.join(root, p), { throwIfNoEntry: false })?.isDirectory() === true;
}
