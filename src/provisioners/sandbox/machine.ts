// One sandboxed machine: a long-lived bubblewrap sandbox whose PID 1 is `airlock-exec --init` (it
// writes one byte to tell us setup is finished, reaps orphans, and exits when the pipe we hold on
// its stdin closes), and steps that join its namespaces with `airlock-exec --enter <pid 1> --jail`.
// Joining costs ~1 ms per step instead of a full bwrap start.
//
// Credentials: bwrap starts PID 1 jailed (uid 1001, no capabilities, no_new_privs, the seccomp
// filter). A step's airlock-exec joins the namespaces from the host, forks into the PID
// namespace, and there drops the bounding set, switches to uid/gid 1001, clears its capabilities
// and sets no_new_privs, the open-files limit and the same filter before exec: nothing in the
// machine runs without them. (nsenter cannot do this: the capabilities it gains by joining the
// user namespace are gone once it execs anything, so the bounding set could no longer be dropped.)
//
// Killing: each step's airlock-exec is started in its own process group, and the process it forks
// into the PID namespace stays in that group, so kill() = kill(-pgid). destroy() kills the
// namespace's init (our PID 1); the kernel then kills every process of the PID namespace.
//
// Limits: with a cgroup, bwrap and every step's airlock-exec start with `--join`, so each
// process of the machine is accounted from its first instruction; a watcher kills the whole machine
// when the kernel reports a memory or process limit hit, and limitExceeded() names it (and a full
// disk) in one line. destroy() kills what is left in the cgroup, removes it and releases the disk.
import type { ChildProcess } from "node:child_process";
import { promises as fsp } from "node:fs";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import type { MachineCgroup } from "../common/cgroups/index.js";
import type { Disk } from "../common/disk-pool.js";
import {
  EGRESS_PROXY_PORT,
  egressProxyEnv,
  JOB_SERVICES_PORT,
  startRelay,
  type Relay,
} from "../common/egress-relay.js";
import { HostFolderMachine } from "../common/host-machine.js";
import { limitMessage } from "../common/limits.js";
import { innerPaths, machineFiles } from "../common/layout.js";
import type { ExecHandle, ExecRequest, Machine, MachineLimits, MachinePaths, MachineSpec } from "../types.js";
import { bwrapArgs, INFO_FD, EXTERNAL_NODE, INNER_GID, INNER_HELPER, INNER_UID, SECCOMP_FD } from "./args.js";
import type { IdentityFiles } from "./identity.js";
import { REFILL_DELAY_MS, spawnStepZygote, type Zygote } from "./warm.js";

export interface SandboxStart {
  id: string;
  spec: MachineSpec;
  machineDir: string;
  baseDir: string;
  bwrap: string;
  /** util-linux nsenter: starts the egress relay in the machine's network namespace only. */
  nsenter: string;
  /** Inner path of the machine's home (see args.ts). */
  home: string;
  /** Generated passwd and group naming the job user (identity.ts). */
  identity?: IdentityFiles;
  /** Host uid/gid that runs bwrap and owns the private folders; undefined: our own. */
  hostOwner: { uid: number; gid: number } | undefined;
  limits: MachineLimits;
  /** Host path of airlock-exec: PID 1 and every step run it. */
  exec: string;
  /** The seccomp filter for bwrap --seccomp (airlock-exec --dump-bpf), matching spec.nestedUserns. */
  bpf: Buffer;
  /** The machine's cgroups (root only). */
  cgroup: MachineCgroup | undefined;
  /** The machine's own filesystem, mounted at machineDir (root and a disk limit only). */
  disk: Disk | undefined;
  /** The zygote that becomes bwrap (warm.ts): already in the cgroups and running as hostOwner. */
  init: Zygote;
  /** The zygote of the first step, already in the cgroups. */
  firstStep: Zygote;
}

const STARTUP_TIMEOUT_MS = 30_000;

export { innerPaths };

export async function startSandbox(s: SandboxStart): Promise<Machine> {
  const argv = [
    ...bwrapArgs({
      machineDir: s.machineDir,
      baseDir: s.baseDir,
      image: s.spec.root.kind === "image" ? s.spec.root.path : undefined,
      helper: s.exec,
      allowUserns: s.spec.nestedUserns === true,
      cgroupBinds: s.cgroup?.binds ?? [],
      ...(s.limits.shmMb !== undefined ? { shmMb: s.limits.shmMb } : {}),
      ...(s.limits.tmpMb !== undefined ? { tmpMb: s.limits.tmpMb } : {}),
      home: s.home,
      ...(s.identity ? { identity: s.identity } : {}),
    }),
    "--info-fd",
    String(INFO_FD),
    "--",
    INNER_HELPER,
    "--init",
  ];
  // The zygote is in the cgroups already (so bwrap is from its first instruction) and switches to
  // hostOwner before it execs bwrap.
  s.init.go(["--", s.bwrap, ...argv], { PATH: "/usr/local/bin:/usr/bin:/bin" });
  const init = s.init.child;
  // bwrap reads the filter to end of file before it forks (1 KiB: fits the pipe, never blocks).
  const seccomp = init.stdio[SECCOMP_FD] as NodeJS.WritableStream | null;
  seccomp?.on("error", () => undefined);
  seccomp?.end(s.bpf);
  const initPid = await waitReady(init);
  const relays: Relay[] = [];
  const relay = (proxySocket: string, port: number): Promise<Relay> =>
    startRelay({
      nsenter: s.nsenter,
      targetPid: initPid,
      proxySocket,
      userns: s.hostOwner === undefined,
      port,
    });
  try {
    if (s.spec.egress) relays.push(await relay(s.spec.egress.proxySocket, EGRESS_PROXY_PORT));
    if (s.spec.services) relays.push(await relay(s.spec.services.socket, JOB_SERVICES_PORT));
  } catch (e) {
    for (const r of relays) r.kill();
    init.kill("SIGKILL");
    try {
      process.kill(initPid, "SIGKILL");
    } catch {
      // already gone
    }
    throw e;
  }
  return new SandboxMachine(s, init, initPid, relays);
}

/** Resolves with the host pid of the sandbox's pid 1 once its mounts are in place. */
function waitReady(init: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let info = "";
    let pid: number | undefined;
    let echoed = false;
    let stderr = "";
    const fail = (code: ErrorCode, why: string) => {
      clearTimeout(timer);
      init.kill("SIGKILL");
      const line = stderr.split("\n").find((l) => l.trim() !== "") ?? why;
      reject(new AirlockError(code, `bubblewrap sandbox could not start: ${line.trim()}`));
    };
    const done = () => {
      if (pid === undefined || !echoed) return;
      clearTimeout(timer);
      init.removeAllListeners("exit");
      resolve(pid);
    };
    const timer = setTimeout(() => fail(ErrorCode.MACHINE_FAILED, "timed out"), STARTUP_TIMEOUT_MS);
    init.stderr?.on("data", (b: Buffer) => (stderr += b.toString()));
    (init.stdio[INFO_FD] as NodeJS.ReadableStream | null)?.on("data", (b: Buffer) => {
      info += b.toString();
      const m = /"child-pid":\s*(\d+)/.exec(info);
      if (m && pid === undefined) {
        pid = Number(m[1]);
        done();
      }
    });
    init.stdout?.once("data", () => {
      echoed = true;
      done();
    });
    init.once("error", (e) => fail(ErrorCode.SANDBOX_UNAVAILABLE, e.message));
    // Exit before the namespaces exist: bwrap unusable here. After: the setup itself failed.
    init.once("exit", () =>
      setImmediate(() =>
        fail(pid === undefined ? ErrorCode.SANDBOX_UNAVAILABLE : ErrorCode.MACHINE_FAILED, "exited"),
      ),
    );
    init.stdin?.on("error", () => undefined);
  });
}

class SandboxMachine extends HostFolderMachine implements Machine {
  readonly id: string;
  readonly paths: MachinePaths;
  readonly env: Readonly<Record<string, string>> | undefined;
  readonly servicesUrl: string | undefined;
  readonly nodePath = EXTERNAL_NODE;
  private readonly stepArgs: string[];
  private readonly initExited: Promise<void>;
  private destroyed: Promise<void> | undefined;
  /** The limit the machine went over (it is then killed); set once. */
  private exceeded: string | undefined;
  private readonly stopWatch: () => void;
  /** The zygote the next step runs in; a fresh one is spawned as each step starts. */
  private nextStep: Zygote | undefined;

  constructor(
    private readonly s: SandboxStart,
    private readonly init: ChildProcess,
    private readonly initPid: number,
    private readonly relays: Relay[],
  ) {
    super(machineFiles(s.machineDir, s.home, s.hostOwner));
    this.id = s.id;
    this.env = s.spec.egress ? egressProxyEnv() : undefined;
    this.servicesUrl = s.spec.services ? `http://127.0.0.1:${JOB_SERVICES_PORT}` : undefined;
    this.paths = { ...innerPaths, home: s.home };
    const nofile = s.limits.nofile;
    // One airlock-exec per step (a zygote already in the cgroups): into the namespaces, jailed, exec.
    this.nextStep = s.firstStep;
    this.stepArgs = [
      "--enter",
      String(initPid),
      "--jail",
      "--uid",
      String(INNER_UID),
      "--gid",
      String(INNER_GID),
      ...(nofile !== undefined ? ["--nofile", String(nofile)] : []),
      ...(s.spec.nestedUserns === true ? ["--allow-userns"] : []),
    ];
    this.initExited = new Promise((res) => {
      if (init.exitCode !== null || init.signalCode !== null) res();
      else init.once("exit", () => res());
    });
    init.stdout?.resume();
    init.stderr?.resume();
    // A limit hit while a step runs (or a daemon it left behind) takes the whole machine down.
    this.stopWatch =
      s.cgroup?.watch((hit) => {
        this.exceeded ??= limitMessage(hit, s.limits);
        this.killAll();
      }) ?? (() => undefined);
  }

  async limitExceeded(): Promise<string | undefined> {
    if (this.exceeded === undefined && !this.destroyed) {
      const hit = await this.s.cgroup?.hit();
      if (hit) this.exceeded ??= limitMessage(hit, this.s.limits);
      else if (this.s.disk && (await this.s.disk.full().catch(() => false))) {
        this.exceeded ??= limitMessage("disk", this.s.limits);
      }
      if (this.exceeded !== undefined) this.killAll();
    }
    return this.exceeded;
  }

  /** Kills every process of the machine now (the machine stays until destroy()). */
  private killAll(): void {
    this.stopWatch();
    this.killInitAndSteps();
    this.s.cgroup?.killAll().catch(() => undefined);
  }

  /** SIGKILL to the machine's PID 1 (the kernel then kills its whole PID namespace) and to every step. */
  private killInitAndSteps(): void {
    // While the outer bwrap lives, its child (our init pid) is not reaped, so the pid is not reused.
    if (this.init.exitCode === null && this.init.signalCode === null) {
      try {
        process.kill(this.initPid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    this.killAllGroups();
  }

  exec(req: ExecRequest): ExecHandle {
    if (req.argv.length === 0) throw new AirlockError(ErrorCode.MACHINE_FAILED, "exec: empty argv");
    if (this.destroyed) throw new AirlockError(ErrorCode.MACHINE_FAILED, `${this.id} is destroyed`);
    if (this.exceeded !== undefined) {
      throw new AirlockError(ErrorCode.MACHINE_FAILED, `${this.id} was killed: ${this.exceeded}`);
    }
    // Once the outer bwrap is gone, the init pid may be reaped and reused by an unrelated process
    // (another machine's init even): never enter a pid we no longer hold.
    if (this.init.exitCode !== null || this.init.signalCode !== null) {
      throw new AirlockError(ErrorCode.MACHINE_FAILED, `${this.id}: the sandbox has exited`);
    }
    const args = [...this.stepArgs, "--chdir", req.cwd, "--", ...req.argv];
    let z = this.nextStep;
    this.nextStep = undefined;
    if (!z?.alive) {
      z?.cancel();
      z = this.spawnStep();
    }
    z.go(args, req.env);
    const handle = this.adoptInGroup(z.child);
    // The next step's zygote joins the cgroups while this step runs (a little later: see REFILL_DELAY_MS).
    setTimeout(() => {
      if (!this.destroyed && this.nextStep === undefined) this.nextStep = this.spawnStep();
    }, REFILL_DELAY_MS).unref();
    return handle;
  }

  private spawnStep(): Zygote {
    const z = spawnStepZygote({ exec: this.s.exec, procs: this.s.cgroup?.procs ?? [] });
    this.trackGroup(z.child);
    return z;
  }

  destroy(): Promise<void> {
    this.closing = true;
    this.destroyed ??= (async () => {
      this.nextStep?.cancel();
      this.stopWatch();
      this.killInitAndSteps();
      for (const r of this.relays) r.kill();
      // The outer bwrap exits once pid 1 is reaped, and pid 1 is reaped only after the kernel has
      // killed every other process of the namespace: after this, nothing of the job runs.
      const slow = setTimeout(() => this.init.kill("SIGKILL"), 5000);
      await this.initExited;
      clearTimeout(slow);
      // Whatever escaped the PID namespace's end (nothing should) dies with the cgroup.
      await this.s.cgroup?.remove();
      if (this.s.disk) await this.s.disk.release();
      else await fsp.rm(this.s.machineDir, { recursive: true, force: true, maxRetries: 5 });
    })();
    return this.destroyed;
  }
}
