// Public face of the expressions module: GitHub Actions `${{ }}` evaluation on @actions/expressions.
// (Signatures fixed; implementation in progress.)
export type Contexts = Record<string, unknown>;

export interface EvalHost {
  /** Job status for success()/failure()/cancelled()/always(). Defaults: success, not cancelled. */
  status?: { failed: boolean; cancelled: boolean };
  /** hashFiles(...patterns): sha256 hex of the matched workspace files, "" when none matched. */
  hashFiles?(patterns: string[]): string;
}
