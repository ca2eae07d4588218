// The actions module's use of the shared git runner: clones and staging repositories get quiet,
// predictable defaults (no detached-HEAD advice, `main` for new repositories), and the test for
// failures worth retrying.
import { GitCommandError, runGit, type GitResult } from "../git/index.js";

const CLONE_CONFIG = ["-c", "advice.detachedHead=false", "-c", "init.defaultBranch=main"];

/** Runs `git <args>` in cwd (default time limit of the shared runner). */
export function git(
  cwd: string,
  args: string[],
  timeoutMs?: number,
  env?: Record<string, string>,
): Promise<GitResult> {
  return runGit([...CLONE_CONFIG, ...args], { cwd, timeoutMs, ...(env ? { env } : {}) });
}

/** A git failure that looks like network trouble rather than a missing repository or ref. */
export function isNetworkish(err: unknown): boolean {
  return err instanceof GitCommandError && err.networkish;
}
