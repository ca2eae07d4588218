// The one-line reasons a machine gives when it went over a limit: the same words in the job's log,
// its failure reason, the agent's log and the docs ("memory limit 4096 MiB exceeded").
import type { MachineLimits } from "../types.js";

export type LimitKind = "memory" | "pids" | "disk";

export function limitMessage(kind: LimitKind, limits: MachineLimits): string {
  switch (kind) {
    case "memory":
      return `memory limit ${limits.memoryMb ?? "?"} MiB exceeded`;
    case "pids":
      return `process limit ${limits.pids ?? "?"} exceeded`;
    case "disk":
      return `disk limit ${limits.diskMb ?? "?"} MiB exceeded`;
  }
}

/** True when `limits` asks for anything at all. */
export function hasLimits(limits: MachineLimits | undefined): boolean {
  return limits !== undefined && Object.values(limits).some((v) => v !== undefined);
}
