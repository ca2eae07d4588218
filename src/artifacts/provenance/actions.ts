// The actions a job was pinned to, read back from the job's stored description
// (JobDescription.resolvedActions, written by the orchestrator when it queued the job,
// src/actions/pins.ts) for the provenance statement. The stored JSON is checked entry by entry:
// anything that is not a well-formed pin is left out rather than signed.
import type { ProvenanceInput } from "./statement.js";

const COMMIT = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

export function pinnedActions(stored: unknown): ProvenanceInput["actions"] {
  if (!Array.isArray(stored)) return [];
  const out: ProvenanceInput["actions"] = [];
  for (const a of stored as unknown[]) {
    if (typeof a !== "object" || a === null) continue;
    const { name, ref, commit, url } = a as Record<string, unknown>;
    if (typeof name !== "string" || typeof ref !== "string" || typeof url !== "string") continue;
    if (typeof commit !== "string" || !COMMIT.test(commit)) continue;
    out.push({ name, repository: url, ref, commit });
  }
  return out;
}
