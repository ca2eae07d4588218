// The executor of a local run: each job instance on a fresh machine from a provisioner, at most
// `maxParallelJobs` at once; `-P label=<image or rootfs>` picks the machine's root filesystem for
// jobs with that runs-on label, the others get `defaultRoot` (the debian-12 image, or the host's
// root when the user opted in with --host-root).
import { runJobOnNewMachine } from "../runner/index.js";
import type { ActionLoader, JobResult, WorkspaceSource } from "../runner/types.js";
import type { NodeEgress } from "../egress/index.js";
import type { MachineLimits, MachineRoot, Provisioner } from "../provisioners/types.js";
import { Limiter } from "./limiter.js";
import type { InstanceExecutor } from "./types.js";

export interface MachineExecutorOptions {
  provisioner: Provisioner;
  actions: ActionLoader;
  source: WorkspaceSource;
  maxParallelJobs: number;
  /** runs-on label → root filesystem (-P). */
  platforms: Record<string, MachineRoot>;
  /** The root of every other job. */
  defaultRoot: MachineRoot;
  /** The run's egress (allow-list and proxy); absent or an empty list: machines have no network. */
  egress?: NodeEgress;
  /** Limits of every machine (cli/limits.ts). */
  limits?: MachineLimits;
}

const cancelled: JobResult = { conclusion: "cancelled", outputs: {}, steps: [], durationMs: 0 };

export function createMachineExecutor(o: MachineExecutorOptions): InstanceExecutor {
  const machines = new Limiter(o.maxParallelJobs);
  return {
    run: (req) =>
      machines.run(async () => {
        if (req.signal.aborted) return cancelled;
        req.onStarted();
        const label = req.labels.find((l) => o.platforms[l] !== undefined);
        const root = (label === undefined ? undefined : o.platforms[label]) ?? o.defaultRoot;
        return runJobOnNewMachine(
          o.provisioner,
          { name: req.instance.name, root, ...(o.limits ? { limits: o.limits } : {}) },
          req.description,
          { actions: o.actions, source: o.source, signal: req.signal, onEvent: (e) => req.onEvent(e) },
          o.egress ? { egress: o.egress } : {},
        );
      }),
  };
}
