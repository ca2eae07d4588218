// Where a Docker action's container sees the job's folders: GitHub's fixed paths (actions/runner
// ContainerActionHandler). MachineContainers.run mounts each machine folder at its container path,
// and every variable the action gets has these prefixes rewritten (TranslateToContainerPath: the
// most specific mount first, a whole path or a prefix followed by "/").
import path from "node:path/posix";
import type { MachinePaths } from "../provisioners/types.js";

export interface ContainerMount {
  /** Folder inside the machine. */
  machine: string;
  /** Where the action's container sees it. */
  container: string;
}

/** The mounts of a Docker action, most specific first. */
export function dockerActionMounts(paths: Pick<MachinePaths, "workspace" | "temp">): ContainerMount[] {
  return [
    { machine: paths.workspace, container: "/github/workspace" },
    { machine: path.join(paths.temp, "_runner_file_commands"), container: "/github/file_commands" },
    { machine: path.join(paths.temp, "_github_workflow"), container: "/github/workflow" },
    { machine: path.join(paths.temp, "_github_home"), container: "/github/home" },
    { machine: paths.temp, container: "/github/runner_temp" },
  ];
}

/** A machine path (or a value starting with one) as the container sees it; anything else unchanged. */
export function toContainerPath(value: string, mounts: readonly ContainerMount[]): string {
  for (const m of mounts) {
    if (value === m.machine) return m.container;
    if (value.startsWith(`${m.machine}/`)) return m.container + value.slice(m.machine.length);
  }
  return value;
}
