// podman command lines of a machine and of its sibling containers.
//
// Layout inside the machine (as the sandbox's, see sandbox/args.ts): the image read-only (--read-only,
// no tmpfs podman would add), a private /tmp (tmpfs with a size), /dev/shm (--shm-size), the
// machine's host folders at /airlock/{workspace,temp,actions (read-only),toolcache} and its home at
// /home/runner (when the image has it) or /airlock/home, the generated passwd/group and the job's
// /etc/hosts read-only, airlock-exec and the host's node read-only under /airlock/externals.
//
// Credentials: a user namespace per machine (--uidmap 0:<base>:65536, base unique per machine), so
// even uid 0 inside is an unprivileged host uid; PID 1 and every step run as uid 1001 inside;
// --cap-drop all, no-new-privileges, podman's default seccomp profile for PID 1 and every sibling
// (steps get airlock-exec's filter: they enter from the host, see machine.ts); --network none.
// Rootless (rootless.ts): the map comes from the user's subordinate range (idMap) and, without
// cgroup delegation, no --memory/--cpus/--pids-limit is asked for (podman could not apply them).
import { realpathSync } from "node:fs";
import path from "node:path";
import type { MachineLimits } from "../types.js";
import { defaultNofile, defaultNproc } from "./podman.js";

import { EXTERNAL_NODE, INNER_GID, INNER_HELPER, INNER_ROOT, INNER_UID, SUBDIRS } from "../common/layout.js";

export { EXTERNAL_NODE, INNER_GID, INNER_HELPER, INNER_ROOT, INNER_UID, SUBDIRS } from "../common/layout.js";
/** Size of each machine's uid/gid range on the host. */
export const ID_RANGE = 65536;
export const DEFAULT_SHM_MB = 64;
export const DEFAULT_TMP_MB = 1024;
const HOST_NODE = realpathSync(process.execPath);

export const LABEL_MACHINE = "airlock.machine";
export const LABEL_OWNER = "airlock.owner";

export function containerName(id: string): string {
  return `airlock-${id}`;
}

export interface MachineRunInput {
  id: string;
  owner: string;
  image: string;
  idBase: number;
  machineDir: string;
  home: string;
  helper: string;
  hostsFile: string;
  identity?: { passwd: string; group: string };
  limits: MachineLimits;
  /** `options:` of a job container (podmanOptions) and its `--env-file`. */
  extra?: string[];
  /** `--volume` arguments of a job container (volumes.ts). */
  volumes?: string[];
  /** Rootless (rootless.ts): the machine's --uidmap/--gidmap, instead of 0:<idBase>:65536. */
  idMap?: string[];
  /** False when cgroup limits cannot be had (rootless without delegation): none are asked for. */
  cgroupLimits?: boolean;
}

/** Labels, user namespace and the limits and hardening every container of a machine gets. */
export function commonArgs(id: string, owner: string, limits: MachineLimits, cgroupLimits = true): string[] {
  // runc cannot raise a limit in a user namespace above the hard limit podman has: PID 1 and the
  // siblings get at most that; steps get the machine's own (airlock-exec sets it before entering).
  const nofile = Math.min(limits.nofile ?? defaultNofile(), defaultNofile());
  const args = [
    "--label",
    `${LABEL_MACHINE}=${id}`,
    "--label",
    `${LABEL_OWNER}=${owner}`,
    "--cap-drop",
    "all",
    "--security-opt",
    "no-new-privileges",
    "--ulimit",
    `nofile=${nofile}:${nofile}`,
    "--ulimit",
    `nproc=${defaultNproc()}:${defaultNproc()}`,
    "--shm-size",
    `${limits.shmMb ?? DEFAULT_SHM_MB}m`,
  ];
  if (!cgroupLimits) return args;
  args.push("--pids-limit", String(limits.pids ?? -1));
  if (limits.memoryMb !== undefined) {
    args.push("--memory", `${limits.memoryMb}m`, "--memory-swap", `${limits.memoryMb}m`);
  }
  if (limits.cpus !== undefined) args.push("--cpus", String(limits.cpus));
  return args;
}

export function tmpArgs(limits: MachineLimits): string[] {
  return ["--tmpfs", `/tmp:rw,nosuid,nodev,mode=1777,size=${limits.tmpMb ?? DEFAULT_TMP_MB}m`];
}

export function machineRunArgs(i: MachineRunInput): string[] {
  const args = [
    "run",
    "--detach",
    "--interactive", // PID 1 (airlock-exec --init) lives while its stdin is open
    "--name",
    containerName(i.id),
    ...commonArgs(i.id, i.owner, i.limits, i.cgroupLimits ?? true),
    ...(i.idMap ?? ["--uidmap", `0:${i.idBase}:${ID_RANGE}`, "--gidmap", `0:${i.idBase}:${ID_RANGE}`]),
    "--network",
    "none",
    "--no-hosts",
    "--hostname",
    "airlock",
    "--read-only",
    "--read-only-tmpfs=false",
    ...tmpArgs(i.limits),
    "--log-driver",
    "none",
    "--user",
    `${INNER_UID}:${INNER_GID}`,
    "--workdir",
    `${INNER_ROOT}/workspace`,
    "--entrypoint",
    INNER_HELPER,
  ];
  for (const d of SUBDIRS) {
    const inner = d === "home" ? i.home : `${INNER_ROOT}/${d}`;
    args.push("--volume", `${path.join(i.machineDir, d)}:${inner}:${d === "actions" ? "ro" : "rw"}`);
  }
  args.push("--volume", `${i.hostsFile}:/etc/hosts:ro`);
  if (i.identity) {
    args.push(
      "--volume",
      `${i.identity.passwd}:/etc/passwd:ro`,
      "--volume",
      `${i.identity.group}:/etc/group:ro`,
    );
  }
  args.push("--volume", `${i.helper}:${INNER_HELPER}:ro`, "--volume", `${HOST_NODE}:${EXTERNAL_NODE}:ro`);
  args.push(...(i.volumes ?? []));
  args.push(...(i.extra ?? []), i.image, "--init");
  return args;
}
