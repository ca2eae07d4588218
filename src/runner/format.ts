// Turns runner events into the lines of a job's text log. The console reporter of `airlock run`
// colours them by style; the orchestrator stores them as they are.
import type { RunnerEvent } from "./types.js";

export type LineStyle =
  "step" | "group" | "log" | "debug" | "error" | "warning" | "notice" | "ok" | "bad" | "skip";

export interface StyledLine {
  style: LineStyle;
  text: string;
}

export function formatEvent(e: RunnerEvent): StyledLine[] {
  switch (e.type) {
    case "step-started":
      return [
        { style: "step", text: `▶ ${e.step.stage === "main" ? "" : `${e.step.stage}: `}${e.step.name}` },
      ];
    case "log":
      if (e.kind === "group-start") return [{ style: "group", text: `  ▸ ${e.text}` }];
      if (e.kind === "group-end") return [];
      if (e.kind === "debug") return [{ style: "debug", text: `  | ##[debug]${e.text}` }];
      return [{ style: "log", text: `  | ${e.text}` }];
    case "annotation": {
      const where = e.file ? ` ${e.file}${e.line ? `:${e.line}` : ""}${e.col ? `:${e.col}` : ""}` : "";
      return [{ style: e.level, text: `  ${e.level}${where}: ${e.title ? `${e.title}: ` : ""}${e.message}` }];
    }
    case "step-finished": {
      const c = e.result.conclusion;
      const note = e.result.outcome !== c ? ` (outcome ${e.result.outcome})` : "";
      const mark = c === "success" ? "✓" : c === "skipped" ? "-" : "✗";
      return [
        {
          style: c === "success" ? "ok" : c === "skipped" ? "skip" : "bad",
          text: `${mark} ${e.step.name} ${c}${note} [${(e.result.durationMs / 1000).toFixed(1)}s]`,
        },
      ];
    }
    case "job-finished":
      return [
        { style: e.result.conclusion === "success" ? "ok" : "bad", text: `Job ${e.result.conclusion}` },
      ];
    default:
      return [];
  }
}

/** The text a stored log gets for an event: its lines, each ending in "\n" ("" for none). */
export function eventText(e: RunnerEvent): string {
  return formatEvent(e)
    .map((l) => `${l.text}\n`)
    .join("");
}
