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
