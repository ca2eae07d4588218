// Step summaries as they travel from the agent to the orchestrator (the `summaries` of a JobResult
// in the `finished` message, src/protocol/agent.ts) and are stored: well-formed, one per step, in
// step order, within bounds. The agent applies them before sending (so `finished` stays far below
// the WebSocket's message limit) and the orchestrator again on receipt (an agent is not trusted to).
import type { StepSummary } from "./types.js";

/** GitHub refuses a step summary above 1 MiB (the runner does too: src/runner/execute.ts). */
export const SUMMARY_MAX_BYTES = 1024 * 1024;
/**
 * At most this much per job attempt, counted as the summaries weigh in the JSON message (quotes
 * and control characters grow when escaped), so `finished` stays well under the WebSocket's
 * 16 MiB message limit; summaries past it are dropped.
 */
export const SUMMARIES_MAX_BYTES = 8 * 1024 * 1024;

/** The summaries a result carries that are kept: well-formed, within the bounds, one per step. */
export function boundedSummaries(raw: unknown): StepSummary[] {
  if (!Array.isArray(raw)) return [];
  const out = new Map<number, StepSummary>();
  let total = 0;
  for (const s of raw as unknown[]) {
    if (typeof s !== "object" || s === null) continue;
    const { step, markdown } = s as { step?: unknown; markdown?: unknown };
    if (typeof markdown !== "string" || markdown === "" || typeof step !== "object" || step === null)
      continue;
    const { index, id, name, stage } = step as Record<string, unknown>;
    if (typeof index !== "number" || !Number.isInteger(index) || index < 0 || index > 1_000_000) continue;
    if (out.has(index)) continue;
    if (Buffer.byteLength(markdown) > SUMMARY_MAX_BYTES) continue;
    const cost = Buffer.byteLength(JSON.stringify(markdown));
    if (total + cost > SUMMARIES_MAX_BYTES) continue;
    total += cost;
    out.set(index, {
      step: {
        index,
        id: typeof id === "string" ? id.slice(0, 200) : "",
        name: typeof name === "string" ? name.slice(0, 500) : "",
        stage: stage === "pre" || stage === "post" ? stage : "main",
      },
      markdown,
    });
  }
  return [...out.values()].sort((a, b) => a.step.index - b.step.index);
}
