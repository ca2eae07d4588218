// The layout inside a machine whose files live on the host (sandbox and container provisioners):
// the same paths in both, so the runner never knows which one it drives.
import type { MachinePaths } from "../types.js";
import { MachineFs } from "./safe-fs.js";

export const INNER_ROOT = "/airlock";
export const SUBDIRS = ["workspace", "temp", "actions", "home", "toolcache"] as const;
export type Subdir = (typeof SUBDIRS)[number];
/** The Node runtime JavaScript actions run on (like actions/runner's externals/node20). */
export const EXTERNAL_NODE = `${INNER_ROOT}/externals/node/bin/node`;
/** The native helper inside every machine. */
export const INNER_HELPER = `${INNER_ROOT}/externals/bin/airlock-exec`;
/** uid/gid of job processes inside (GitHub's hosted runners use 1001 "runner"). */
export const INNER_UID = 1001;
export const INNER_GID = 1001;

export const innerPaths: MachinePaths = {
  workspace: `${INNER_ROOT}/workspace`,
  temp: `${INNER_ROOT}/temp`,
  actions: `${INNER_ROOT}/actions`,
  home: `${INNER_ROOT}/home`,
  toolCache: `${INNER_ROOT}/toolcache`,
};

/** The machine's files: each private folder under `machineDir` at its inner path (home: `home`). */
export function machineFiles(
  machineDir: string,
  home: string,
  owner?: { uid: number; gid: number },
): MachineFs {
  return new MachineFs({
    roots: SUBDIRS.map((d) => ({
      inner: d === "home" ? home : `${INNER_ROOT}/${d}`,
      host: `${machineDir}/${d}`,
    })),
    owner,
  });
}
