// How Airlock calls podman: rootful (rootless when the agent is not root: rootless.ts), runc with
// cgroupfs (crun fails on hybrid cgroup hosts) and Airlock's own containers.conf (CONTAINERS_CONF) so that an operator's or a distribution's
// defaults do not change what a machine gets. Every call is argv (never a shell string); podman's
// own process runs with a fixed, clean environment (PATH, CONTAINERS_CONF, rootless: HOME,
// XDG_RUNTIME_DIR and CONTAINERS_STORAGE_CONF of Airlock's choosing; nothing of the agent's:
// podman, Go, glibc's loader and its HTTP client obey many variables); a container's variables
// travel in a private env-file (env-file.ts), never in argv or in podman's environment.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { AirlockError, ErrorCode } from "../../errors/index.js";

export interface PodmanResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** nproc above this is refused by runc in a user namespace (conmon's own hard limit). */
const MAX_NPROC = 32768;
const MAX_NOFILE = 65536;

/** The hard limit this process has for one resource of /proc/self/limits ("Max open files"). */
export function hardLimit(name: string, fallback: number): number {
  try {
    const line = readFileSync("/proc/self/limits", "utf8")
      .split("\n")
      .find((l) => l.startsWith(name));
    const hard = line?.slice(26).trim().split(/\s+/)[1];
    if (hard === undefined) return fallback;
    return hard === "unlimited" ? fallback : Number(hard);
  } catch {
    return fallback;
  }
}

/** Default open-files limit of a container: what runc may set in a user namespace. */
export function defaultNofile(): number {
  return Math.min(MAX_NOFILE, hardLimit("Max open files", MAX_NOFILE));
}

export function defaultNproc(): number {
  return Math.min(MAX_NPROC, hardLimit("Max processes", MAX_NPROC));
}

/** Writes Airlock's containers.conf: rlimits a user-namespaced container may have on this host. */
export function writeContainersConf(file: string): void {
  const text = [
    "# Written by Airlock (container provisioner); rewritten at every start.",
    "[containers]",
    `default_ulimits = ["nofile=${defaultNofile()}:${defaultNofile()}","nproc=${defaultNproc()}:${defaultNproc()}"]`,
    "",
    "[engine]",
    'cgroup_manager = "cgroupfs"',
    'runtime = "runc"',
    'events_logger = "file"',
    "",
  ].join("\n");
  writeFileSync(file, text, { mode: 0o644 });
}

/** podman's PATH: the system's, never the agent's. */
export const PODMAN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export class Podman {
  /**
   * `bin`: the podman binary; `conf`: Airlock's containers.conf; `privateDir`: a folder only root
   * can write where env-files are made (default: the folder of `conf`).
   */
  constructor(
    readonly bin: string,
    private readonly conf: string,
    readonly privateDir: string = path.dirname(conf),
    /** Rootless (rootless.ts): the user's HOME, a runtime folder and Airlock's storage.conf. */
    private readonly rootless?: { home: string; runDir: string; storageConf: string },
  ) {}

  /** Global options first on every command line. */
  get globalArgs(): string[] {
    return ["--runtime", "runc", "--cgroup-manager", "cgroupfs"];
  }

  /** podman's whole environment: fixed, whatever the agent's is (no PODMAN_SENSITIVE name but these). */
  env(): Record<string, string> {
    const env: Record<string, string> = { PATH: PODMAN_PATH, CONTAINERS_CONF: this.conf };
    if (this.rootless) {
      env.HOME = this.rootless.home;
      env.XDG_RUNTIME_DIR = this.rootless.runDir;
      env.CONTAINERS_STORAGE_CONF = this.rootless.storageConf;
    }
    return env;
  }

  spawn(args: readonly string[], opts: { detached?: boolean } = {}): ChildProcess {
    return spawn(this.bin, [...this.globalArgs, ...args], {
      env: this.env(),
      stdio: ["pipe", "pipe", "pipe"],
      detached: opts.detached ?? false,
    });
  }

  /** Runs podman to its end. `input` is written to its stdin (or a stream piped in). */
  run(
    args: readonly string[],
    opts: { input?: NodeJS.ReadableStream; maxOut?: number } = {},
  ): Promise<PodmanResult> {
    const child = this.spawn(args);
    const max = opts.maxOut ?? 1 << 20;
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (b: Buffer) => {
      if (stdout.length < max) stdout += b.toString();
    });
    child.stderr?.on("data", (b: Buffer) => {
      if (stderr.length < 65536) stderr += b.toString();
    });
    child.stdin?.on("error", () => undefined);
    if (opts.input) opts.input.pipe(child.stdin as NodeJS.WritableStream);
    else child.stdin?.end();
    return new Promise((resolve) => {
      child.once("error", (e) => resolve({ code: 127, stdout, stderr: `${stderr}${e.message}\n` }));
      child.once("close", (code) => resolve({ code, stdout, stderr }));
    });
  }

  /** Runs podman and returns its stdout; failure → AirlockError with podman's first error line. */
  async ok(args: readonly string[], what: string, opts: Parameters<Podman["run"]>[1] = {}): Promise<string> {
    const r = await this.run(args, opts);
    if (r.code !== 0) throw new AirlockError(ErrorCode.MACHINE_FAILED, `${what}: ${firstError(r.stderr)}`);
    return r.stdout;
  }
}

/** podman's most telling stderr line (its "Error: ..." line when there is one), bounded. */
export function firstError(stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  const line =
    lines.find((l) => l.startsWith("Error:")) ?? lines.find((l) => !l.startsWith("time=")) ?? lines[0];
  return (line ?? "podman failed").replace(/^Error:\s*/, "").slice(0, 400);
}

/**
 * Variables podman itself would obey (Go's runtime, containers/* libraries, its HTTP client, the
 * registry and Docker compatibility settings) or glibc and its dynamic loader would (preloads,
 * charset converters, locales, resolver, malloc and tunables). None of them ever reaches podman's
 * process: its environment is fixed (Podman.env); container variables go to an env-file.
 */
export const PODMAN_SENSITIVE =
  /^(LD_|GCONV_PATH$|GLIBC_TUNABLES$|LOCPATH$|NLSPATH$|HOSTALIASES$|RESOLV_|RES_OPTIONS$|LOCALDOMAIN$|MALLOC_|TZDIR$|GETCONF_DIR$|GMON_OUT_PREFIX$|TMPDIR$|GO|CGO|CONTAINER|PODMAN|BUILDAH|STORAGE|REGISTRY|XDG_|DOCKER|HOME$|PATH$|USER$|LANG|LC_|TZ$|NOTIFY_SOCKET$|LISTEN_|SSL_|HTTPS?_PROXY$|NO_PROXY$|ALL_PROXY$|FTP_PROXY$|SSLKEYLOGFILE$|OTEL_|DBUS_)/i;

export function isPodmanSensitive(name: string): boolean {
  return PODMAN_SENSITIVE.test(name);
}
