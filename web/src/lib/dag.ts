// The run page's job graph: the workflow's jobs (GET /runs/:id `graph`) in columns by dependency
// depth, each job's rows (matrix legs, the jobs of a called workflow) grouped under it, and the
// edges between boxes as coordinates for an SVG overlay. Pure: sizes in, positions out.

export interface GraphJobIn {
  id: string;
  name: string;
  needs: string[];
}

export interface JobRowIn {
  id: number;
  key: string;
  jobId: string;
  name: string;
  state: string;
  conclusion: string | null;
}

export interface DagNode<R extends JobRowIn = JobRowIn> {
  id: string;
  name: string;
  needs: string[];
  depth: number;
  /** The rows of this workflow job (one per matrix leg; none yet: waiting). */
  rows: R[];
  x: number;
  y: number;
  height: number;
}

export interface DagEdge {
  from: string;
  to: string;
  /** SVG path data from the right middle of `from` to the left middle of `to`. */
  path: string;
}

export interface DagLayout<R extends JobRowIn = JobRowIn> {
  nodes: Array<DagNode<R>>;
  edges: DagEdge[];
  columns: number;
  width: number;
  height: number;
}

export interface DagSizes {
  nodeWidth: number;
  /** A box's height with one line (a job without legs, or a collapsed group). */
  nodeHeight: number;
  /** Extra height per leg of an expanded group. */
  legHeight: number;
  colGap: number;
  rowGap: number;
}

export const DEFAULT_SIZES: DagSizes = {
  nodeWidth: 220,
  nodeHeight: 44,
  legHeight: 30,
  colGap: 56,
  rowGap: 14,
};

/**
 * The top-level workflow job a row belongs to: its key is `<file>#<job id>#<index>`, and a job of
 * a called workflow nests its key under its caller's, so the first job id is the caller.
 */
export function topJobOf(row: JobRowIn): string {
  const parts = row.key.split("#");
  return parts.length >= 3 && parts[1] ? parts[1] : row.jobId;
}

/** Dependency depth of each job: 0 without needs, else one more than its deepest need (cycles cut). */
export function depths(graph: GraphJobIn[]): Map<string, number> {
  const byId = new Map(graph.map((g) => [g.id, g]));
  const depth = new Map<string, number>();
  const visiting = new Set<string>();
  const visit = (id: string): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) return 0;
    visiting.add(id);
    let d = 0;
    for (const n of byId.get(id)?.needs ?? []) if (byId.has(n)) d = Math.max(d, visit(n) + 1);
    visiting.delete(id);
    depth.set(id, d);
    return d;
  };
  for (const g of graph) visit(g.id);
  return depth;
}

/**
 * Lays the graph out. `graph` null (a run from before graphs were kept): one column of the jobs
 * the rows name. Rows whose job is not in the graph get a box of their own at depth 0.
 * `expanded(id)`: whether a job with several rows shows its legs; `extra(rows)`: more height a
 * box needs (a wait reason line).
 */
export function layoutDag<R extends JobRowIn>(
  graph: GraphJobIn[] | null,
  rows: R[],
  expanded: (id: string) => boolean,
  sizes: DagSizes = DEFAULT_SIZES,
  extra: (rows: R[]) => number = () => 0,
): DagLayout<R> {
  const jobs: GraphJobIn[] = graph ? [...graph] : [];
  const known = new Set(jobs.map((j) => j.id));
  const rowsOf = new Map<string, R[]>();
  for (const r of rows) {
    const top = topJobOf(r);
    if (!known.has(top)) {
      known.add(top);
      jobs.push({ id: top, name: r.name, needs: [] });
    }
    const list = rowsOf.get(top) ?? [];
    list.push(r);
    rowsOf.set(top, list);
  }
  const depth = depths(jobs);
  const columns: Array<Array<DagNode<R>>> = [];
  for (const j of jobs) {
    const d = depth.get(j.id) ?? 0;
    const rs = rowsOf.get(j.id) ?? [];
    const legs = rs.length > 1 && expanded(j.id) ? rs.length : 0;
    const node: DagNode<R> = {
      id: j.id,
      name: j.name,
      needs: j.needs.filter((n) => known.has(n)),
      depth: d,
      rows: rs,
      x: d * (sizes.nodeWidth + sizes.colGap),
      y: 0,
      height: sizes.nodeHeight + legs * sizes.legHeight + extra(rs),
    };
    (columns[d] ??= []).push(node);
  }
  let height = 0;
  for (const col of columns) {
    let y = 0;
    for (const n of col ?? []) {
      n.y = y;
      y += n.height + sizes.rowGap;
    }
    height = Math.max(height, y - sizes.rowGap);
  }
  const nodes = columns.flatMap((c) => c ?? []);
  const at = new Map(nodes.map((n) => [n.id, n]));
  const edges: DagEdge[] = [];
  for (const n of nodes)
    for (const need of n.needs) {
      const from = at.get(need);
      if (!from) continue;
      const x1 = from.x + sizes.nodeWidth;
      const y1 = from.y + sizes.nodeHeight / 2;
      const x2 = n.x;
      const y2 = n.y + sizes.nodeHeight / 2;
      const mx = (x1 + x2) / 2;
      edges.push({ from: need, to: n.id, path: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}` });
    }
  const cols = columns.length;
  return {
    nodes,
    edges,
    columns: cols,
    width: Math.max(0, cols * (sizes.nodeWidth + sizes.colGap) - sizes.colGap),
    height: Math.max(0, height),
  };
}

/** A workflow job's state from its rows: any failure wins, then running, queued, all success. */
export function groupState(rows: JobRowIn[]): { state: string; conclusion: string | null } {
  if (rows.length === 0) return { state: "waiting", conclusion: null };
  if (rows.length === 1)
    return { state: rows[0]?.state ?? "queued", conclusion: rows[0]?.conclusion ?? null };
  const done = rows.filter((r) => r.state === "completed");
  if (done.length === rows.length) {
    const order = ["failure", "lost", "cancelled", "success", "skipped"];
    for (const c of order)
      if (rows.some((r) => r.conclusion === c)) return { state: "completed", conclusion: c };
    return { state: "completed", conclusion: rows[0]?.conclusion ?? null };
  }
  if (rows.some((r) => r.state === "running" || r.state === "assigned"))
    return { state: "running", conclusion: null };
  return { state: "queued", conclusion: null };
}
