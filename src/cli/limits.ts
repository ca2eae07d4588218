// Machine limits of a local `airlock run`: sensible defaults when run as root (where they can be
// enforced), overridden with `--limit name=value`. Not root: only what is asked for (and the
// sandbox warns once that it cannot enforce it).
import os from "node:os";
import { AirlockError, ErrorCode } from "../errors/index.js";
import type { MachineLimits } from "../provisioners/index.js";
import { parseKeyValues } from "./args.js";

const NAMES: Record<string, keyof MachineLimits> = {
  cpus: "cpus",
  "memory-mb": "memoryMb",
  "disk-mb": "diskMb",
  pids: "pids",
  nofile: "nofile",
  "shm-mb": "shmMb",
  "tmp-mb": "tmpMb",
};

/** Root's defaults: 3/4 of the host's memory, a 10 GiB disk, the agent's defaults for the rest. */
export function defaultLocalLimits(): MachineLimits {
  return {
    memoryMb: Math.floor((os.totalmem() / 1024 / 1024) * 0.75),
    diskMb: 10240,
    pids: 4096,
    nofile: 65536,
    shmMb: 64,
    tmpMb: 1024,
  };
}

export function localLimits(given: string[], asRoot = process.getuid?.() === 0): MachineLimits {
  const out: MachineLimits = asRoot ? defaultLocalLimits() : {};
  for (const [name, value] of Object.entries(parseKeyValues(given, "--limit"))) {
    const key = NAMES[name];
    if (key === undefined) {
      throw new AirlockError(
        ErrorCode.USAGE,
        `--limit ${name}: unknown limit (${Object.keys(NAMES).join(", ")})`,
      );
    }
    const n = Number(value);
    const ok = key === "cpus" ? Number.isFinite(n) && n > 0 : Number.isInteger(n) && n > 0;
    if (!ok)
      throw new AirlockError(ErrorCode.USAGE, `--limit ${name}: expected a positive number, got "${value}"`);
    out[key] = n;
  }
  return out;
}
