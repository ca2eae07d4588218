// Human output of `airlock run`: live log lines prefixed by job (colored on a TTY) and a summary
// table at the end. With --json the live log goes to stderr and stdout holds one JSON document.
import type { JobInstance, JobReport, RunReport, RunReporter } from "../planner/index.js";
import type { RunnerEvent } from "../runner/types.js";

const COLORS = [36, 35, 33, 32, 34, 91, 96, 95, 93, 92];

export interface Writer {
  write(text: string): unknown;
}

export function createConsoleReporter(out: Writer, color: boolean): RunReporter {
  const colorOf = new Map<string, number>();
  const paint = (code: number, text: string): string => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
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
      switch (e.type) {
        case "step-started":
          line(job, paint(1, `▶ ${e.step.stage === "main" ? "" : `${e.step.stage}: `}${e.step.name}`));
          break;
        case "log":
          if (e.kind === "group-start") line(job, paint(1, `  ▸ ${e.text}`));
          else if (e.kind === "group-end") break;
          else if (e.kind === "debug") line(job, paint(90, `  | ##[debug]${e.text}`));
          else line(job, `  | ${e.text}`);
          break;
        case "annotation": {
          const where = e.file ? ` ${e.file}${e.line ? `:${e.line}` : ""}${e.col ? `:${e.col}` : ""}` : "";
          const code = e.level === "error" ? 31 : e.level === "warning" ? 33 : 36;
          line(job, paint(code, `  ${e.level}${where}: ${e.title ? `${e.title}: ` : ""}${e.message}`));
          break;
        }
        case "step-finished": {
          const c = e.result.conclusion;
          const mark = c === "success" ? paint(32, "✓") : c === "skipped" ? paint(90, "-") : paint(31, "✗");
          const note = e.result.outcome !== c ? ` (outcome ${e.result.outcome})` : "";
          line(job, `${mark} ${e.step.name} ${c}${note} [${seconds(e.result.durationMs)}]`);
          break;
        }
        default:
          break;
      }
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
