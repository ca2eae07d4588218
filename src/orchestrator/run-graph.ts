// A run's job graph as planned (runs.graph): every job of its workflow with the jobs it needs, so
// the web UI can draw the whole graph before each job's row exists. Names that are expressions
// (evaluated per matrix leg) show as the job id; the rows carry the evaluated names.
import type { Workflow } from "../workflow/index.js";

export interface GraphJob {
  /** The workflow's job id (jobs.job_id of its rows; a matrix job has one row per leg). */
  id: string;
  name: string;
  needs: string[];
  /** The job calls a reusable workflow (its rows' keys nest under this job's). */
  calls: boolean;
}

export function jobGraph(workflow: Workflow): GraphJob[] {
  return workflow.jobs.map((j) => ({
    id: j.id,
    name: typeof j.name === "string" && !j.name.includes("${{") ? j.name : j.id,
    needs: [...j.needs],
    calls: j.uses !== undefined,
  }));
}

/** The stored graph, or null when the column is empty or not the expected shape. */
export function graphFromColumn(v: unknown): GraphJob[] | null {
  if (!Array.isArray(v)) return null;
  const out: GraphJob[] = [];
  for (const j of v as Array<Record<string, unknown>>) {
    if (typeof j?.id !== "string" || !Array.isArray(j.needs)) return null;
    out.push({
      id: j.id,
      name: typeof j.name === "string" ? j.name : j.id,
      needs: j.needs.filter((n): n is string => typeof n === "string"),
      calls: j.calls === true,
    });
  }
  return out;
}
