// Small pieces the runs list and the run page share: the trust tier mark, short commits, the
// branch of a ref, a run's duration. Everything a job source controls is rendered as text.
import type { Run } from "../../../src/orchestrator/views/runs.js";
import { formatDuration } from "./ui.js";

export function TrustTier({ tier }: { tier: string }) {
  return tier === "untrusted" ? (
    <span
      class="tier tier-untrusted"
      data-testid="tier-untrusted"
      title="Untrusted: a fork or an outside contributor; runs in the untrusted tier"
    >
      untrusted
    </span>
  ) : (
    <span class="tier tier-trusted">trusted</span>
  );
}

export const shortSha = (commit: string): string => commit.slice(0, 7);

/** refs/heads/x → x; other refs as they are. */
export function refName(run: Pick<Run, "ref"> & { branch?: string | null }): string {
  if (run.branch) return run.branch;
  if (run.ref.startsWith("refs/heads/")) return run.ref.slice("refs/heads/".length);
  if (run.ref.startsWith("refs/tags/")) return run.ref.slice("refs/tags/".length);
  return run.ref;
}

/** The run's duration (server's figure when given, else from its times; to now while it runs). */
export function runDuration(
  run: Pick<Run, "startedAt" | "finishedAt"> & { durationMs?: number | null },
): string {
  if (typeof run.durationMs === "number") return formatDuration(run.durationMs);
  if (!run.startedAt) return "–";
  const end = run.finishedAt ? new Date(run.finishedAt).getTime() : Date.now();
  return formatDuration(end - new Date(run.startedAt).getTime());
}

/** The first line of a commit message or title. */
export const firstLine = (s: string): string => s.split(/\r?\n/, 1)[0] ?? "";
