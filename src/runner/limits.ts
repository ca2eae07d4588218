// A machine over one of its limits (memory, processes, disk) has been killed as a whole: the job
// says so once, in one line of its log ("memory limit 4096 MiB exceeded"), fails with that line as
// its reason, and runs no further step (there is no machine left to run it on).
import type { JobRun } from "./state.js";
import type { StepRef } from "./types.js";

/** Asks the machine whether it went over a limit (after a process ended badly, at job end). */
export async function checkLimits(run: JobRun, step: StepRef | undefined): Promise<boolean> {
  if (run.limitExceeded !== undefined) return true;
  const why = await run.machine.limitExceeded?.().catch(() => undefined);
  if (why === undefined || run.limitExceeded !== undefined) return run.limitExceeded !== undefined;
  run.limitExceeded = why;
  run.failed = true;
  run.annotate(step, "error", why);
  return true;
}
