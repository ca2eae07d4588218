// What `airlock run -l`, `-g` and `-n` show instead of running, in the spirit of act's: the jobs
// with their stage (how many `needs` levels lie before them), the job graph drawn as text, and an
// executor that plans every job instance (needs, if, matrix, called workflows: the real planner)
// and prints what would run without creating a machine.
import type { InstanceExecutor } from "../planner/index.js";
import type { JobTemplate, StepTemplate, Workflow } from "../workflow/model.js";
import { toExpressionString } from "../expressions/index.js";

export interface PlannedJob {
  stage: number;
  job: JobTemplate;
  workflow: Workflow;
}

/** Jobs of `workflows` (only `only` and what it needs, when given) with their stages, in stage order. */
export function planStages(workflows: readonly Workflow[], only?: string): PlannedJob[] {
  const out: PlannedJob[] = [];
  for (const workflow of workflows) {
    const byId = new Map(workflow.jobs.map((j) => [j.id, j]));
    const stageOf = new Map<string, number>();
    const visiting = new Set<string>();
    const stage = (id: string): number => {
      const known = stageOf.get(id);
      if (known !== undefined) return known;
      if (visiting.has(id)) return 0; // a cycle is refused when the workflow loads; never loop here
      visiting.add(id);
      const needs = byId.get(id)?.needs.filter((n) => byId.has(n)) ?? [];
      const s = needs.length === 0 ? 0 : 1 + Math.max(...needs.map(stage));
      stageOf.set(id, s);
      return s;
    };
    const wanted = new Set<string>();
    const want = (id: string): void => {
      if (wanted.has(id) || !byId.has(id)) return;
      wanted.add(id);
      for (const n of byId.get(id)?.needs ?? []) want(n);
    };
    if (only === undefined) for (const j of workflow.jobs) want(j.id);
    else want(only);
    for (const job of workflow.jobs)
      if (wanted.has(job.id)) out.push({ stage: stage(job.id), job, workflow });
  }
  // Stable: within a stage, workflows and jobs keep their file order.
  return out
    .map((p, i) => [p, i] as const)
    .sort((a, b) => a[0].stage - b[0].stage || a[1] - b[1])
    .map(([p]) => p);
}

function jobName(job: JobTemplate): string {
  return typeof job.name === "string" ? job.name : job.id;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const fmt = (r: string[]): string =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [fmt(header), ...rows.map(fmt)].join("\n") + "\n";
}

/** act's `--list`: stage, job id, job name, workflow name, workflow file, events. */
export function listTable(planned: readonly PlannedJob[]): string {
  const rows = planned.map((p) => [
    String(p.stage),
    p.job.id,
    jobName(p.job),
    p.workflow.name,
    p.workflow.file,
    Object.keys(p.workflow.on).join(","),
  ]);
  let text = table(["STAGE", "JOB ID", "JOB NAME", "WORKFLOW NAME", "WORKFLOW FILE", "EVENTS"], rows);
  const ids = planned.map((p) => p.job.id);
  if (new Set(ids).size !== ids.length)
    text += "\nSeveral workflows have jobs with the same id: -W picks one workflow.\n";
  return text;
}

/** act's `--graph`: per workflow, one row of boxes per stage, an arrow between rows. */
export function drawGraph(planned: readonly PlannedJob[]): string {
  const lines: string[] = [];
  const workflows = [...new Set(planned.map((p) => p.workflow))];
  for (const w of workflows) {
    if (lines.length > 0) lines.push("");
    lines.push(`${w.file} (${w.name})`);
    const jobs = planned.filter((p) => p.workflow === w);
    const stages = [...new Set(jobs.map((p) => p.stage))].sort((a, b) => a - b);
    const rows = stages.map((s) => boxes(jobs.filter((p) => p.stage === s).map((p) => boxLabel(p.job))));
    const width = Math.max(...rows.map((r) => r[0]?.length ?? 0));
    rows.forEach((row, i) => {
      if (i > 0) lines.push(" ".repeat(Math.max(0, Math.floor(width / 2))) + "↓");
      const pad = " ".repeat(Math.max(0, Math.floor((width - (row[0]?.length ?? 0)) / 2)));
      for (const l of row) lines.push((pad + l).trimEnd());
    });
  }
  return lines.join("\n") + "\n";
}

function boxLabel(job: JobTemplate): string {
  return job.needs.length === 0 ? job.id : `${job.id} ← ${job.needs.join(", ")}`;
}

function boxes(labels: string[]): [string, string, string] {
  const top: string[] = [];
  const mid: string[] = [];
  const bottom: string[] = [];
  for (const l of labels) {
    const n = [...l].length + 2;
    top.push(`┌${"─".repeat(n)}┐`);
    mid.push(`│ ${l} │`);
    bottom.push(`└${"─".repeat(n)}┘`);
  }
  return [top.join(" "), mid.join(" "), bottom.join(" ")];
}

/** What a step would be called on GitHub when it has no usable `name:`. */
function stepLabel(step: StepTemplate): string {
  if (step.name !== undefined) return toExpressionString(step.name);
  if (step.uses !== undefined) return `Run ${step.uses}`;
  const first = toExpressionString(step.run ?? "")
    .split("\n")
    .find((l) => l.trim() !== "");
  return `Run ${first?.trim() ?? ""}`;
}

/**
 * The executor of `-n`: each job instance the planner would run is reported with its runs-on labels
 * and steps, and succeeds without outputs (so a job that reads a need's outputs sees them empty).
 */
export function createDryRunExecutor(): InstanceExecutor {
  return {
    run(req) {
      req.onStarted();
      const say = (text: string): void => req.onEvent({ type: "log", stream: "system", kind: "line", text });
      say(`dry run: would run on a new machine for runs-on: ${req.labels.join(", ") || "(none)"}`);
      req.description.steps.forEach((s, i) => say(`  step ${i + 1}: ${stepLabel(s)}`));
      return Promise.resolve({ conclusion: "success", outputs: {}, steps: [], durationMs: 0 });
    },
  };
}
