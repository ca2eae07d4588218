// The one provisioner interface. A provisioner creates single-use machines; a machine runs
// processes for exactly one job and is destroyed afterwards. Backends: sandbox/ (bubblewrap),
// container/ (podman), vm/ (QEMU), ssh/ (fixed hosts), fake/ (plain host processes in a private
// folder, for tests and baselines).
import type { Readable } from "node:stream";

export interface MachineSpec {
  /** Human-readable name of the job, for diagnostics only. */
  name: string;
  /**
   * Root filesystem, always read-only. `image`: the unpacked rootfs folder of a job image on the
   * host, shared by machines. `host`: the host's own root filesystem: an explicit, documented
   * opt-in for a local `airlock run` only (a node agent never uses it).
   */
  root: MachineRoot;
  /** Kernel-enforced resource limits (the job's flavour plus the node's defaults); absent: none. */
  limits?: MachineLimits;
  /**
   * Network egress. Absent: no network at all (the machine has only its loopback). Present: the
   * machine's processes reach the egress proxy session at `proxySocket` (a host unix socket,
   * never visible inside) through a relay on 127.0.0.1:3128 inside (common/egress-relay.ts), and get the
   * proxy variables (Machine.env). Set by the node or a local run, never by the job.
   */
  egress?: MachineEgress;
  /**
   * Job services (the identity-token endpoint today; artifacts and caches later): a host unix
   * socket served by the node (src/agent/job-services.ts), which the machine's processes reach at
   * `Machine.servicesUrl` — in the sandbox through a relay on 127.0.0.1:3129 inside, with no
   * other network. Set by the node, never by the job. Absent: no job services.
   */
  services?: { socket: string };
  /**
   * Pool option, never the job's: processes may create nested user namespaces (rootless
   * containers, unshare -r). Default off: the seccomp filter and the kernel refuse them.
   */
  nestedUserns?: boolean;
  /**
   * The job's own container (`container:` of the workflow, evaluated by the planner and checked
   * against the pool's options allow-list by the node): its image replaces `root` as the machine's
   * filesystem. Only the container provisioner honours it; the others refuse with
   * MACHINE_UNSUPPORTED ("job containers need the container provisioner").
   */
  jobContainer?: JobContainerSpec;
}

/** `credentials:` of a workflow container, evaluated (never logged). */
export interface RegistryCredentials {
  username: string;
  password: string;
}

/**
 * The job's own container. Its credentials are asked for lazily, with the id of the machine about
 * to be created, and only when its image is pulled from the registry: on a server run they may
 * read secrets that are released for that machine id only (runner/on-machine.ts).
 */
export interface JobContainerSpec extends Omit<ContainerSpec, "credentials"> {
  credentials?(machineId: string): Promise<RegistryCredentials | undefined>;
}

/** A container the workflow asks for (`container:`, a `services:` entry, a Docker action). */
export interface ContainerSpec {
  /** Image reference, looked up in the node's local container storage (or its configured registry). */
  image: string;
  /** Variables of the container (`env:`). */
  env: Record<string, string>;
  /** `options:` already parsed and allowed by the node (src/containers: checkContainer). */
  options: readonly string[];
  /**
   * Options the node's pool allows beyond the default list (set by checkContainer on the node,
   * whatever the job description said); the provisioner honours no other refused-by-default one.
   */
  allowOptions?: readonly string[];
  /** `volumes:`: sources inside the machine's workspace only (or named volumes of this job). */
  volumes: readonly { source: string; target: string; readOnly: boolean }[];
  /** `ports:` of a service (container port, optional host-side port), as written. */
  ports?: readonly string[];
  /** `credentials:` for the registry (never logged). */
  credentials?: RegistryCredentials;
  /** A service's `entrypoint:` (replaces the image's ENTRYPOINT). */
  entrypoint?: string;
  /** A service's `command:`, split into words (replaces the image's CMD). */
  command?: readonly string[];
}

/**
 * Containers next to the job's own machine (services, Docker actions): only machines of the
 * container provisioner have them (`Machine.containers`); every container and volume they start is
 * removed by `Machine.destroy()`.
 */
export interface MachineContainers {
  /**
   * Starts a service container that the job (and the other services) reach by `name`, and nothing
   * else; resolves once it has started. `health()` then tells whether its health check passed.
   */
  startService(name: string, spec: ContainerSpec): Promise<ServiceContainer>;
  /** Builds an image from a Dockerfile in a host folder (Docker actions), no registry; returns its reference. */
  build(req: { contextDir: string; dockerfile: string; tag: string }): Promise<string>;
  /** Runs a container to its end with the job's workspace, temp and home mounted (Docker actions, `docker://`). */
  run(req: ContainerRun): ExecHandle;
}

export interface ContainerRun {
  image: string;
  /** Replaces the image's ENTRYPOINT when set. */
  entrypoint?: string;
  args: readonly string[];
  env: Record<string, string>;
  /** Working directory inside the container (GitHub: /github/workspace). */
  workdir: string;
}

export interface ServiceContainer {
  readonly name: string;
  /** "none" when the image has no health check. */
  health(): Promise<"starting" | "healthy" | "unhealthy" | "none">;
  /** The container's output so far (for a failed health check), bounded. */
  logs(maxBytes: number): Promise<string>;
}

export interface MachineEgress {
  /** The allow-list the proxy session enforces (node ∪ repository), for diagnostics. */
  allow: readonly string[];
  /** Host path of the machine's own egress proxy socket (src/egress). */
  proxySocket: string;
}

/**
 * Resource limits of one machine, each enforced by the kernel where the backend can (see
 * common/cgroups and common/disk-pool). An absent field means "no limit of this kind". A machine
 * over a limit is killed as a whole and says which limit in one line (`limitExceeded()`).
 */
export interface MachineLimits {
  /** CPU time, in CPUs (fractions allowed): a CFS quota of cpus × period. */
  cpus?: number;
  /** Memory (RAM + page cache + tmpfs the job writes), swap off for the job. */
  memoryMb?: number;
  /** Size of the machine's private filesystem (workspace, temp, home, tool cache). */
  diskMb?: number;
  /** Processes and threads alive at once. */
  pids?: number;
  /** Open files per process (RLIMIT_NOFILE). */
  nofile?: number;
  /** Size of the machine's /dev/shm. */
  shmMb?: number;
  /** Size of the machine's /tmp. */
  tmpMb?: number;
}

export type MachineRoot = { kind: "image"; path: string } | { kind: "host" };

/** The host's root, read-only: only for an explicit local opt-in. */
export const HOST_ROOT: MachineRoot = Object.freeze({ kind: "host" });

/** Paths as seen from inside the machine. */
export interface MachinePaths {
  /** GITHUB_WORKSPACE: private, writable. */
  workspace: string;
  /** RUNNER_TEMP: private, writable; env files and step scripts go here. */
  temp: string;
  /** Where fetched actions are copied (writable by the runner only via copyIn). */
  actions: string;
  /** HOME for job processes. */
  home: string;
  /** RUNNER_TOOL_CACHE. */
  toolCache: string;
}

export interface ExecRequest {
  argv: string[];
  /** The complete environment of the process (nothing is inherited from the host). */
  env: Record<string, string>;
  /** Working directory inside the machine. */
  cwd: string;
}

export interface ExecResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

export interface ExecHandle {
  stdout: Readable;
  stderr: Readable;
  /** Resolves when the process has exited and its output streams have ended. */
  wait(): Promise<ExecResult>;
  /** Kills the process and every process it started (idempotent). */
  kill(): void;
}

export interface Machine {
  readonly id: string;
  readonly paths: MachinePaths;
  /**
   * Variables the machine gives every process of the job (e.g. its proxy variables when it has
   * egress); the runner puts them under the step's own env. Absent: none.
   */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Base URL (http, no trailing slash) at which the machine's processes reach the job services of
   * `MachineSpec.services`; absent when the spec had none.
   */
  readonly servicesUrl?: string;
  /**
   * The Node runtime JavaScript actions run on, as a path inside the machine: the node provides it
   * read-only, as actions/runner ships externals/node20 (the sandbox binds the host's node at
   * /airlock/externals/node/bin/node), so an image need not contain node.
   */
  readonly nodePath: string;
  /** Sibling containers (services, Docker actions); only the container provisioner has them. */
  readonly containers?: MachineContainers;
  /** Starts a process inside the machine. Not idempotent: each call starts a new process. */
  exec(req: ExecRequest): ExecHandle;
  /** Writes a file inside the machine (parents created). Never follows a symlink out of the machine. */
  writeFile(innerPath: string, data: string | Uint8Array): Promise<void>;
  /** Reads a file inside the machine. Never follows a symlink out of the machine. ENOENT-style
   * absence is reported as `undefined`. A file larger than `maxBytes` is refused (MACHINE_FILE_TOO_LARGE)
   * without being read: a job can make its files as large as it likes. */
  readFile(innerPath: string, opts?: { maxBytes?: number }): Promise<Buffer | undefined>;
  /** Copies a host file or folder into the machine at innerPath (replacing what is there). */
  copyIn(hostPath: string, innerPath: string): Promise<void>;
  /**
   * The host path behind an inner path, for backends whose files live on the host (sandbox, fake);
   * undefined for backends where they do not (VMs). Callers must not follow symlinks from it blindly.
   */
  hostPath?(innerPath: string): string | undefined;
  /**
   * The limit this machine went over, as the one line to report ("memory limit 4096 MiB
   * exceeded"), or undefined. Once a limit is hit the whole machine is killed (a later exec
   * fails) and the answer stays the same. Call it when a process ended badly and at job end;
   * idempotent, cheap (reads a few counters). Backends without limits omit it.
   */
  limitExceeded?(): Promise<string | undefined>;
  /** Kills every process of the machine and removes its private state. Idempotent. */
  destroy(): Promise<void>;
}

export interface Provisioner {
  readonly name: string;
  /** Creates a fresh machine. Not idempotent: each call creates a new machine. */
  create(spec: MachineSpec): Promise<Machine>;
  /**
   * Releases what the provisioner keeps between machines (e.g. pre-formatted filesystems kept
   * warm). Machines still alive are not touched. Idempotent; create() after close() fails.
   */
  close?(): Promise<void>;
  /**
   * One line on how this provisioner isolates on this host (e.g. "QEMU microvm, software emulation
   * (TCG): KVM guests do not start here"), reported with the node. Idempotent; may probe once.
   */
  describe?(): Promise<string>;
}
