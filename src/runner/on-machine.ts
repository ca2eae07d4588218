// Runs one job on a fresh single-use machine: create, run, destroy — destroy also on failure and
// on cancel. The local `airlock run` and the node agent both use it.
import type { MachineSpec, Provisioner, Machine } from "../provisioners/types.js";
import { runJob } from "./job.js";
import type { JobDescription, JobResult, RunnerDeps } from "./types.js";

export interface OnMachineOptions {
  /**
   * Destroy the machine as soon as the signal aborts (every process dies at once, no `always()`
   * steps): what a cancel from the orchestrator means. Without it, an abort lets the runner finish
   * the job's `always()`/`cancelled()` steps first, like Ctrl-C of a local run.
   */
  destroyOnAbort?: boolean;
  /** Called once the machine exists (e.g. to report "machine created"). */
  onMachine?(machine: Machine): void;
}

export async function runJobOnNewMachine(
  provisioner: Provisioner,
  spec: MachineSpec,
  job: JobDescription,
  deps: Omit<RunnerDeps, "machine">,
  opts: OnMachineOptions = {},
): Promise<JobResult> {
  const machine = await provisioner.create(spec);
  const destroyNow = (): void => {
    // The finally below awaits the same (idempotent) destroy and reports its failure.
    machine.destroy().catch(() => undefined);
  };
  if (opts.destroyOnAbort) deps.signal?.addEventListener("abort", destroyNow, { once: true });
  try {
    opts.onMachine?.(machine);
    return await runJob(job, { ...deps, machine });
  } finally {
    deps.signal?.removeEventListener("abort", destroyNow);
    await machine.destroy();
  }
}
