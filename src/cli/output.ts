// Human output of `airlock run`: live log lines prefixed by job (colored on a TTY) and a summary
// table at the end. With --json the live log goes to stderr and stdout holds one JSON document.
import type { JobInstance, JobReport, RunReport, RunReporter } from "../planner/index.js";
import type { RunnerEvent } from "../runner/types.js";
import { formatEvent, type LineStyle } from "../runner/format.js";

const COLORS = [36, 35, 33, 32, 34, 91, 96, 95, 93, 92];
const STYLE_COLOR: Record<LineStyle, number> = {
  step: 1,
  group: 1,
  log: 0,
  debug: 90,
  error: 31,
  warning: 33,
  notice: 36,
  ok: 32,
  bad: 31,
  skip: 90,
};

export interface Writer {
  write(text: string): unknown;
}

export function createConsoleReporter(out: Writer, color: boolean): RunReporter {
  const colorOf = new Map<string, number>();
  const paint = (code: number, text: string): string =>
    color && code !== 0 ? `\x1b[${code}m${text}\x1b[0m` : text;
  const prefix = (job: JobInstance): string => {
    let c = colorOf.get(job.key);
    if (c === undefined) {
      c = COLORS[colorOf.size % COLORS.length] ?? 36;
      colorOf.set(job.key, c);
    }
    return paint(c, `[${job.name}]`);
  };
  const line = (job: JobInstance, text: string): void => {
    out.write(`${prefix(job)} ${text}\n`);
  };
  return {
    jobStarted(job) {
      line(job, paint(1, "Job started"));
    },
    jobEvent(job: JobInstance, e: RunnerEvent) {
      if (e.type === "job-finished") return; // jobFinished reports it, with the planner's view
      for (const l of formatEvent(e)) line(job, paint(STYLE_COLOR[l.style], l.text));
    },
    jobFinished(job: JobInstance, report: JobReport) {
      if (report.error) line(job, paint(31, `error: ${report.error}`));
      const c = report.conclusion;
      const painted = paint(c === "success" ? 32 : c === "skipped" ? 90 : 31, c);
      line(job, `Job ${painted}${report.continueOnError && c === "failure" ? " (continue-on-error)" : ""}`);
    },
  };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

export function summaryTable(report: RunReport, color: boolean): string {
  const rows = report.jobs.map((j) => [
    j.name,
    j.conclusion + (j.continueOnError && j.conclusion === "failure" ? " (allowed)" : ""),
    seconds(j.durationMs),
    j.workflow,
  ]);
  const header = ["JOB", "CONCLUSION", "DURATION", "WORKFLOW"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const fmt = (r: string[]): string =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  const paint = (code: number, text: string): string => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
  const lines = [paint(1, fmt(header)), ...rows.map(fmt)];
  const verdict = report.conclusion === "success" ? paint(32, "success") : paint(31, report.conclusion);
  lines.push("", `Run ${verdict}: ${report.jobs.length} job(s) in ${seconds(report.durationMs)}`);
  return lines.join("\n") + "\n";
}

/** The `--json` document. */
export function jsonReport(report: RunReport): string {
  return (
    JSON.stringify(
      {
        conclusion: report.conclusion,
        workflows: report.workflows,
        durationMs: report.durationMs,
        jobs: report.jobs.map((j) => ({
          id: j.id,
          name: j.name,
          workflow: j.workflow,
          matrix: j.matrix,
          conclusion: j.conclusion,
          continueOnError: j.continueOnError,
          outputs: j.outputs,
          durationMs: j.durationMs,
          ...(j.error === undefined ? {} : { error: j.error }),
          steps: j.steps,
        })),
      },
      null,
      2,
    ) + "\n"
  );
}
