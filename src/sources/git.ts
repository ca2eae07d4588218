// How the job source maps the shared git runner's failures to its own error code: a fetch that
// failed is SOURCE_FETCH_FAILED, retryable when it looks like network trouble, and its message
// names the clone URL without credentials.
import { AirlockError, ErrorCode } from "../errors/index.js";
import { GitCommandError, redactUrls } from "../git/index.js";

/** Time limit of reads from a mirror (ls-tree, cat-file, rev-parse...). */
export const READ_TIMEOUT_MS = 60_000;

export function fetchFailed(url: string, cause: unknown): AirlockError {
  const stderr = cause instanceof GitCommandError ? cause.stderr : String(cause);
  return new AirlockError(
    ErrorCode.SOURCE_FETCH_FAILED,
    `fetching ${redactUrls(url)} failed: ${redactUrls(stderr.trim()).split("\n").slice(-3).join(" ")}`,
    { retryable: cause instanceof GitCommandError && cause.networkish },
  );
}
