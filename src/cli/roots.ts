// The root filesystems of a local `airlock run`: the default image (debian-12) from this node's
// store, `-P label=<image name or rootfs folder>` for jobs with that runs-on label, or — only when
// the user asks with --host-root — the host's own root filesystem, read-only, with a warning.
// Every image used is leased for the whole run, so `airlock image remove` cannot take it away.
import { statSync } from "node:fs";
import { resolve } from "node:path";
import { AirlockError, ErrorCode } from "../errors/index.js";
import { DEFAULT_IMAGE, ImageStore, type ImageLease } from "../images/index.js";
import { HOST_ROOT, type MachineRoot } from "../provisioners/index.js";

export interface RunRoots {
  defaultRoot: MachineRoot;
  platforms: Record<string, MachineRoot>;
  release(): void;
}

export const HOST_ROOT_WARNING =
  "airlock: warning: --host-root: jobs see this host's whole root filesystem (read-only); " +
  "use it only for workflows you trust\n";

/**
 * Resolves the roots of a run. A -P value with a "/" (or naming an existing folder while no image
 * has that name) is a rootfs folder; anything else is an image name in the store.
 */
export function resolveRunRoots(
  store: ImageStore,
  platforms: Record<string, string>,
  opts: { hostRoot: boolean; cwd: string; warn: (line: string) => void },
): RunRoots {
  const leases: ImageLease[] = [];
  const release = (): void => leases.forEach((l) => l.release());
  const lease = (name: string): MachineRoot => {
    const l = store.acquire(name);
    leases.push(l);
    return { kind: "image", path: l.rootfs };
  };
  try {
    let defaultRoot: MachineRoot;
    if (opts.hostRoot) {
      opts.warn(HOST_ROOT_WARNING);
      defaultRoot = HOST_ROOT;
    } else {
      defaultRoot = lease(DEFAULT_IMAGE);
    }
    const out: Record<string, MachineRoot> = {};
    for (const [label, value] of Object.entries(platforms)) {
      const folder = resolve(opts.cwd, value);
      if (!value.includes("/") && store.resolve(value) !== undefined) out[label] = lease(value);
      else if (statSync(folder, { throwIfNoEntry: false })?.isDirectory())
        out[label] = { kind: "image", path: folder };
      else if (value.includes("/")) {
        throw new AirlockError(ErrorCode.USAGE, `-P ${label}=${value}: no such folder`);
      } else out[label] = lease(value);
    }
    return { defaultRoot, platforms: out, release };
  } catch (err) {
    release();
    throw err;
  }
}
