// Where the native helpers built by scripts/build-native.sh live (dist/native/<name>, static
// binaries), and the argv of airlock-exec's host-side mode. See native/airlock-exec.c for the
// modes; the sandbox binds the same binary read-only into every machine.
import { accessSync, constants, existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { AirlockError, ErrorCode } from "../errors/index.js";

/** The repository (or installed package) root: the first folder upwards holding package.json. */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, "package.json"))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error("airlock: package.json not found above " + import.meta.url);
    dir = up;
  }
  return dir;
}

/** Default folder of the native helpers. */
export function defaultNativeDir(): string {
  return path.join(packageRoot(), "dist", "native");
}

/**
 * Absolute path of native helper `name` (e.g. "airlock-exec"), checked to be executable.
 * Missing: SANDBOX_UNAVAILABLE with one line saying how to build it.
 */
export function nativeBinary(name: string, dir: string = defaultNativeDir()): string {
  const p = path.join(dir, name);
  try {
    accessSync(p, constants.X_OK);
  } catch {
    throw new AirlockError(
      ErrorCode.SANDBOX_UNAVAILABLE,
      `native helper ${p} is missing; build it with 'npm run build' (needs gcc and libc6-dev)`,
    );
  }
  return p;
}

export interface JoinOptions {
  /** cgroup.procs (v1: cgroup.procs or tasks) files to join, absolute paths. */
  procs: readonly string[];
  /** Host uid/gid to switch to after joining (requires root); undefined: stay. */
  user?: { uid: number; gid: number };
}

/**
 * argv (without the binary) that runs `cmd` inside the given cgroups: airlock-exec writes its own
 * pid into each file, drops supplementary groups, switches user, then execs `cmd`, so `cmd` and
 * everything it forks is accounted from its first instruction. Exit 125: the helper failed.
 */
export function joinArgs(o: JoinOptions, cmd: readonly string[]): string[] {
  for (const p of o.procs) {
    if (!path.isAbsolute(p))
      throw new AirlockError(ErrorCode.CONFIG_INVALID, `cgroup file ${p} is not absolute`);
  }
  const user = o.user ? ["--user", `${o.user.uid}:${o.user.gid}`] : [];
  return ["--join", ...o.procs, ...user, "--", ...cmd];
}

export interface ZygoteOptions {
  /** cgroup.procs files to join ahead of time (absolute paths). */
  procs: readonly string[];
  /** Host uid/gid to switch to once the command has come (requires root); undefined: stay. */
  user?: { uid: number; gid: number };
  /** The descriptor the rest of the command will come on (above 2). */
  argsFd: number;
}

/**
 * argv (without the binary) of a zygote: airlock-exec joins the cgroups now, then waits for the
 * rest of its command on `argsFd` (write zygoteBlob(...) and close it; close it empty to retire
 * the zygote: it exits 0).
 */
export function zygoteArgs(o: ZygoteOptions): string[] {
  for (const p of o.procs) {
    if (!path.isAbsolute(p))
      throw new AirlockError(ErrorCode.CONFIG_INVALID, `cgroup file ${p} is not absolute`);
  }
  const join = o.procs.length > 0 ? ["--join", ...o.procs] : [];
  const user = o.user ? ["--user", `${o.user.uid}:${o.user.gid}`] : [];
  return [...join, ...user, "--args-fd", String(o.argsFd)];
}

/**
 * What a zygote reads on its args fd: the number of arguments and of environment entries, then
 * `args` (more options, then "--" and the command), then the environment it execs with (exactly
 * `env`), each string NUL-terminated. Strings holding a NUL are refused (they could not reach
 * execve intact).
 */
export function zygoteBlob(args: readonly string[], env: Readonly<Record<string, string>>): Buffer {
  const entries = Object.entries(env);
  const parts: string[] = [String(args.length), String(entries.length), ...args];
  for (const [k, v] of entries) {
    if (k === "" || k.includes("="))
      throw new AirlockError(ErrorCode.CONFIG_INVALID, `bad environment name ${JSON.stringify(k)}`);
    parts.push(`${k}=${v}`);
  }
  for (const p of parts) {
    if (p.includes("\0"))
      throw new AirlockError(ErrorCode.CONFIG_INVALID, "an argument or environment value holds a NUL byte");
  }
  return Buffer.from(parts.map((p) => `${p}\0`).join(""), "utf8");
}
