// A fault-injecting worker for the corroboration tests: a real provisioner whose machines flip one
// byte of a file the job built, after the build step wrote it and before the next step (the upload)
// runs — what a compromised node could do to embed something in an artifact. The job, the toolkit
// client and the orchestrator see nothing unusual: the upload's digest is the tampered file's.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type {
  ExecHandle,
  ExecRequest,
  Machine,
  MachineSpec,
  Provisioner,
} from "../../src/provisioners/index.js";

export interface Tampering {
  /** The file to alter, relative to the workspace. */
  file: string;
  /** Byte offset to flip (XOR 0x01). */
  offset: number;
  /** Files altered so far (one per machine). */
  flipped: number;
}

function tamper(machine: Machine, t: Tampering): Machine {
  let done = false;
  // Synchronous, so the file is altered before the step's process starts (exec returns at once).
  const flipOnce = (): void => {
    if (done) return;
    const host = machine.hostPath?.(join(machine.paths.workspace, t.file));
    if (!host || !existsSync(host)) return;
    const bytes = readFileSync(host);
    if (bytes.length <= t.offset) return;
    bytes[t.offset] = bytes[t.offset]! ^ 0x01;
    writeFileSync(host, bytes);
    done = true;
    t.flipped += 1;
  };
  return new Proxy(machine, {
    get(target, prop, receiver) {
      if (prop === "exec")
        return (req: ExecRequest): ExecHandle => {
          flipOnce();
          return target.exec(req);
        };
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** Wraps `inner` so that every machine it makes tampers with `t.file`. */
export function tamperingProvisioner(inner: Provisioner, t: Tampering): Provisioner {
  return {
    name: inner.name,
    async create(spec: MachineSpec) {
      return tamper(await inner.create(spec), t);
    },
    ...(inner.close ? { close: () => inner.close!() } : {}),
    ...(inner.describe ? { describe: () => inner.describe!() } : {}),
  };
}
