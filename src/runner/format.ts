// Turns runner events into the lines of a job's text log. The console reporter of `airlock run`
// colours them by style; the orchestrator stores them as they are, with their source.
//
// What a job wrote can never start a line of its own: Airlock's status lines (▶ step, ✓/✗/- step
// result, "Job <conclusion>") start in the first column, and everything a job controls is either
// kept on one line (names) or indented on every line it spans (output, annotation messages, group
// titles). So "Job success" printed by a step is stored as "  | Job success", and a message with
// newlines in it cannot forge a status line below it. The stored chunk's `source` says the same
// for programs (eventSource).
import type { LogSource, RunnerEvent } from "./types.js";

export type LineStyle =
  "step" | "group" | "log" | "debug" | "error" | "warning" | "notice" | "ok" | "bad" | "skip";

/**
 * The style of a stored log chunk: its event's LineStyle, or "group-end" for `::endgroup::` (an
 * empty chunk, kept so a reader can fold the group). Never shown by the console reporter.
 */
export type ChunkStyle = LineStyle | "group-end";

export interface StyledLine {
  style: LineStyle;
  text: string;
}

const LINE_BREAK = /\r\n|\r|\n/;

/** A name a job controls, on one line. */
const oneLine = (s: string): string => s.split(LINE_BREAK).join(" ");

/** `first` + text, the text's later lines each prefixed with `more`. */
function spanning(style: LineStyle, first: string, text: string, more: string): StyledLine[] {
  const [head = "", ...rest] = text.split(LINE_BREAK);
  return [{ style, text: `${first}${head}` }, ...rest.map((l) => ({ style, text: `${more}${l}` }))];
}

export function formatEvent(e: RunnerEvent): StyledLine[] {
  switch (e.type) {
    case "step-started":
      return [
        {
          style: "step",
          text: `▶ ${e.step.stage === "main" ? "" : `${e.step.stage}: `}${oneLine(e.step.name)}`,
        },
      ];
    case "log":
      if (e.kind === "group-start") return spanning("group", "  ▸ ", e.text, "  | ");
      if (e.kind === "group-end") return [];
      if (e.kind === "debug") return spanning("debug", "  | ##[debug]", e.text, "  | ");
      return spanning("log", "  | ", e.text, "  | ");
    case "annotation": {
      const file = e.file === undefined ? undefined : oneLine(e.file);
      const where = file ? ` ${file}${e.line ? `:${e.line}` : ""}${e.col ? `:${e.col}` : ""}` : "";
      const title = e.title ? `${oneLine(e.title)}: ` : "";
      return spanning(e.level, `  ${e.level}${where}: ${title}`, e.message, "    ");
    }
    case "step-finished": {
      const c = e.result.conclusion;
      const note = e.result.outcome !== c ? ` (outcome ${e.result.outcome})` : "";
      const mark = c === "success" ? "✓" : c === "skipped" ? "-" : "✗";
      return [
        {
          style: c === "success" ? "ok" : c === "skipped" ? "skip" : "bad",
          text: `${mark} ${oneLine(e.step.name)} ${c}${note} [${(e.result.durationMs / 1000).toFixed(1)}s]`,
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

/**
 * The style of the chunk stored for an event (every line of a chunk has the same style): that of
 * its lines, "group-end" for the end of a group, null for an event without lines.
 */
export function eventStyle(e: RunnerEvent): ChunkStyle | null {
  if (e.type === "log" && e.kind === "group-end") return "group-end";
  return formatEvent(e)[0]?.style ?? null;
}

/** Who wrote an event's log text: job output and what a step asked for are "step", the rest Airlock's. */
export function eventSource(e: RunnerEvent): LogSource {
  if (e.type === "log") return e.stream === "system" ? "system" : "step";
  if (e.type === "annotation") return e.source === "system" ? "system" : "step";
  return "system";
}
