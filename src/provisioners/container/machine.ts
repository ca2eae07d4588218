// One container machine: a podman container whose PID 1 is `airlock-exec --init` (it reaps
// orphans and lives while podman holds its stdin open), and steps that enter it from the host with
// `airlock-exec --join <its cgroups> --enter <PID 1> --jail` exactly as the sandbox's steps do: each
// step is accounted in the container's cgroups from its first instruction, runs as uid 1001 with no
// capabilities, no_new_privs and airlock-exec's filter, and its helper's process group is killed as a
// whole (kill()). The step's environment is the helper's own (never argv).
//
// Limits: podman puts the container in its own cgroups (--memory = --memory-swap, --pids-limit,
// --cpus); a watcher reads their counters and, once one is over, kills the whole machine (PID 1:
// the kernel then kills its PID namespace, and every sibling container) and limitExceeded() names it.
// destroy(): every container of the machine (label airlock.machine) removed with its volumes,
// the images it built, its relays, its private folder (or disk).
import { spawn } from "node:child_process";
import { promises as fsp, readFileSync } from "node:fs";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import type { Disk } from "../common/disk-pool.js";
import { egressProxyEnv, JOB_SERVICES_PORT, type Relay } from "../common/egress-relay.js";
import { HostFolderMachine } from "../common/host-machine.js";
import { limitMessage } from "../common/limits.js";
import { innerPaths, machineFiles } from "../common/layout.js";
import type {
  ExecHandle,
  ExecRequest,
  Machine,
  MachineContainers,
  MachineLimits,
  MachinePaths,
  MachineSpec,
} from "../types.js";
import { containerName, EXTERNAL_NODE, INNER_GID, INNER_UID, LABEL_MACHINE } from "./args.js";
import { containerHit, type ContainerCgroups } from "./cgroup.js";
import { firstError, type Podman } from "./podman.js";
import type { ContainerRegistry } from "./registry.js";
import { Siblings } from "./siblings.js";

const WATCH_MS = 150;

/** `<pid>.<start time>`: tells a process from a later one given the same pid. */
export function pidTag(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return `${pid}.${stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]}`;
  } catch {
    return undefined;
  }
}

export interface ContainerStart {
  id: string;
  spec: MachineSpec;
  limits: MachineLimits;
  podman: Podman;
  /** Host path of airlock-exec. */
  helper: string;
  machineDir: string;
  /** Folder of the machine's own files (hosts; its private folders unless on a disk). */
  stateDir: string;
  home: string;
  /** The container's PID 1 on the host, and its cgroups. */
  pid: number;
  /** pidTag(pid) when the container started. */
  pidTag: string | undefined;
  cgroups: ContainerCgroups;
  /** Host owner of the private folders: inner uid 1001 of the machine's user namespace. */
  owner: { uid: number; gid: number };
  /** First host uid/gid of the machine's user namespace. */
  idBase: number;
  relays: Relay[];
  /** Starts a relay inside the machine's network namespace from one loopback port to another. */
  forward(listen: number, to: number): Promise<Relay>;
  disk: Disk | undefined;
  hostsFile: string;
  owningLabel: string;
  /** The operator's registry, for service images. */
  registry: ContainerRegistry | undefined;
  /** Called once the machine is gone (frees its uid range). */
  released(): void;
  /** False in rootless mode without cgroup delegation: no limits asked of podman or watched. */
  cgroupLimits?: boolean;
  /** Removes the machine's own folder (rootless: inside podman's namespace, rootless.ts). */
  removeDir?(dir: string): Promise<void>;
}

export { innerPaths };

export class ContainerMachine extends HostFolderMachine implements Machine {
  readonly id: string;
  readonly paths: MachinePaths;
  readonly env: Readonly<Record<string, string>> | undefined;
  readonly servicesUrl: string | undefined;
  readonly nodePath = EXTERNAL_NODE;
  readonly containers: MachineContainers;
  private readonly stepArgs: string[];
  private readonly timer: NodeJS.Timeout;
  private exceeded: string | undefined;
  private destroyed: Promise<void> | undefined;
  private readonly siblings: Siblings;

  constructor(private readonly s: ContainerStart) {
    super(machineFiles(s.machineDir, s.home, s.owner));
    this.id = s.id;
    this.paths = { ...innerPaths, home: s.home };
    this.env = s.spec.egress ? egressProxyEnv() : undefined;
    this.servicesUrl = s.spec.services ? `http://127.0.0.1:${JOB_SERVICES_PORT}` : undefined;
    this.siblings = new Siblings({
      podman: s.podman,
      id: s.id,
      owningLabel: s.owningLabel,
      limits: s.limits,
      machineDir: s.machineDir,
      hostsFile: s.hostsFile,
      owner: s.owner,
      idBase: s.idBase,
      egress: s.spec.egress !== undefined,
      netns: `/proc/${s.pid}/ns/net`,
      forward: async (listen, to) => {
        const relay = await s.forward(listen, to);
        // Killed with the machine's other relays; one started after destroy began dies at once.
        s.relays.push(relay);
        if (this.destroyed !== undefined) relay.kill();
      },
      registry: s.registry,
      alive: () => this.destroyed === undefined && this.exceeded === undefined,
      cgroupLimits: s.cgroupLimits ?? true,
    });
    this.containers = this.siblings;
    const nofile = s.limits.nofile;
    this.stepArgs = [
      ...(s.cgroups.procs.length > 0 ? ["--join", ...s.cgroups.procs] : []),
      "--enter",
      String(s.pid),
      "--jail",
      "--uid",
      String(INNER_UID),
      "--gid",
      String(INNER_GID),
      ...(nofile !== undefined ? ["--nofile", String(nofile)] : []),
      ...(s.spec.nestedUserns === true ? ["--allow-userns"] : []),
    ];
    this.timer = setInterval(() => void this.check(), WATCH_MS);
    this.timer.unref();
  }

  private async check(): Promise<void> {
    if (this.exceeded !== undefined || this.destroyed) return;
    const hit = await containerHit(this.s.cgroups).catch(() => undefined);
    if (hit && this.exceeded === undefined) {
      this.exceeded = limitMessage(hit, this.s.limits);
      this.killAll();
    } else if (!hit && this.s.disk && (await this.s.disk.full().catch(() => false))) {
      this.exceeded ??= limitMessage("disk", this.s.limits);
      this.killAll();
    }
  }

  async limitExceeded(): Promise<string | undefined> {
    await this.check();
    return this.exceeded;
  }

  /** Kills every process of the machine: its PID 1 (the kernel kills the PID namespace), its steps, its siblings. */
  private killAll(): void {
    clearInterval(this.timer);
    try {
      process.kill(this.s.pid, "SIGKILL");
    } catch {
      // already gone
    }
    this.killAllGroups();
    void this.s.podman.run(["kill", "--signal", "KILL", ...this.siblings.names()]).catch(() => undefined);
  }

  exec(req: ExecRequest): ExecHandle {
    if (req.argv.length === 0) throw new AirlockError(ErrorCode.MACHINE_FAILED, "exec: empty argv");
    if (this.destroyed) throw new AirlockError(ErrorCode.MACHINE_FAILED, `${this.id} is destroyed`);
    if (this.exceeded !== undefined) {
      throw new AirlockError(ErrorCode.MACHINE_FAILED, `${this.id} was killed: ${this.exceeded}`);
    }
    // Once PID 1 is gone its pid may belong to another process (another machine's even): never
    // enter a pid that is no longer the one the container started with.
    if (pidTag(this.s.pid) !== this.s.pidTag) {
      throw new AirlockError(ErrorCode.MACHINE_FAILED, `${this.id}: the container has exited`);
    }
    const args = [...this.stepArgs, "--chdir", req.cwd, "--", ...req.argv];
    const child = spawn(this.s.helper, args, {
      env: req.env,
      cwd: "/",
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    return this.adoptInGroup(child);
  }

  destroy(): Promise<void> {
    this.closing = true;
    this.destroyed ??= (async () => {
      clearInterval(this.timer);
      this.killAllGroups();
      for (const r of this.s.relays) r.kill();
      await removeMachineContainers(this.s.podman, this.id);
      await this.siblings.removeImages();
      if (this.s.disk) await this.s.disk.release();
      if (this.s.removeDir) await this.s.removeDir(this.s.stateDir);
      else await fsp.rm(this.s.stateDir, { recursive: true, force: true, maxRetries: 5 });
      this.s.released();
    })();
    return this.destroyed;
  }
}

/** Removes every container (with its anonymous volumes) and named volume labelled for machine `id`. */
export async function removeMachineContainers(podman: Podman, id: string): Promise<void> {
  const filter = `label=${LABEL_MACHINE}=${id}`;
  const list = async (): Promise<string[]> =>
    (await podman.ok(["ps", "--all", "--format", "{{.Names}}", "--filter", filter], "podman ps"))
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "");
  const names = await list();
  if (names.length > 0) {
    // Siblings first: podman keeps a container that others share namespaces with.
    const machine = containerName(id);
    const siblings = names.filter((n) => n !== machine);
    if (siblings.length > 0) await podman.run(["rm", "--force", "--volumes", "--time", "0", ...siblings]);
    if (names.includes(machine)) await podman.run(["rm", "--force", "--volumes", "--time", "0", machine]);
    const left = await list();
    if (left.length > 0) {
      const r = await podman.run(["rm", "--force", "--volumes", "--time", "0", ...left]);
      if (r.code !== 0) {
        throw new AirlockError(
          ErrorCode.MACHINE_FAILED,
          `cannot remove the containers of ${id}: ${firstError(r.stderr)}`,
        );
      }
    }
  }
  const vols = (await podman.ok(["volume", "ls", "--quiet", "--filter", filter], "podman volume ls"))
    .split("\n")
    .filter((l) => l.trim() !== "");
  if (vols.length > 0) await podman.run(["volume", "rm", "--force", ...vols]);
}
