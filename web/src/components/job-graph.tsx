// The run page's job graph: the workflow's jobs as boxes in columns by dependency depth, edges as
// inline SVG (JSX elements, no markup strings), matrix legs grouped under their job and
// expandable, jobs without rows yet shown as waiting. Each box links to its job's log.
import { useState } from "preact/hooks";
import type { Job } from "../../../src/orchestrator/views/jobs.js";
import type { GraphJob } from "../../../src/orchestrator/run-graph.js";
import { DEFAULT_SIZES, groupState, layoutDag, type DagNode } from "../lib/dag.js";
import { Duration, Status } from "./ui.js";

function JobLine({ job }: { job: Job }) {
  return (
    <div class="dag-leg" data-testid="job-leg" data-job-id={job.id}>
      <Status state={job.state} conclusion={job.conclusion} />
      <a href={`/jobs/${job.id}/logs`} data-testid="job-link">
        {job.name}
      </a>
      <span class="muted small">
        <Duration from={job.startedAt} to={job.finishedAt} />
      </span>
    </div>
  );
}

function Node({ node, open, toggle }: { node: DagNode<Job>; open: boolean; toggle: () => void }) {
  const sum = groupState(node.rows);
  const only = node.rows.length === 1 ? node.rows[0] : undefined;
  const waitReason = node.rows.find((r) => r.state === "queued" && r.waitReason)?.waitReason;
  return (
    <div
      class={`dag-node dag-${sum.state === "completed" ? (sum.conclusion ?? "completed") : sum.state}`}
      style={{
        left: `${node.x}px`,
        top: `${node.y}px`,
        width: `${DEFAULT_SIZES.nodeWidth}px`,
        minHeight: `${node.height}px`,
      }}
      data-testid="job-node"
      data-job={node.id}
      data-state={sum.state === "completed" ? (sum.conclusion ?? "completed") : sum.state}
    >
      <div class="dag-head">
        {sum.state === "waiting" ? (
          <span class="status status-waiting" data-status="waiting" title="waiting for the jobs it needs">
            ◌ waiting
          </span>
        ) : (
          <Status state={sum.state} conclusion={sum.conclusion} />
        )}
        {only ? (
          <a href={`/jobs/${only.id}/logs`} class="dag-name" data-testid="job-link" title={only.name}>
            {only.name}
          </a>
        ) : node.rows.length > 1 ? (
          <button
            type="button"
            class="link dag-name"
            onClick={toggle}
            data-testid="job-group-toggle"
            aria-expanded={open}
          >
            {open ? "▾" : "▸"} {node.name} <span class="muted">({node.rows.length})</span>
          </button>
        ) : (
          <span class="dag-name" title={node.name}>
            {node.name}
          </span>
        )}
      </div>
      {waitReason && (
        <div class="dag-wait muted small" data-testid="wait-reason" title={waitReason}>
          {waitReason}
        </div>
      )}
      {open && node.rows.length > 1 && node.rows.map((r) => <JobLine key={r.id} job={r} />)}
    </div>
  );
}

export function JobGraph({ graph, jobs }: { graph: GraphJob[] | null; jobs: Job[] }) {
  const [open, setOpen] = useState<Record<string, boolean>>({});
  // A box with a wait reason gets a line more for it.
  const layout = layoutDag(
    graph,
    jobs,
    (id) => open[id] === true,
    DEFAULT_SIZES,
    (rows) => (rows.some((r) => r.state === "queued" && r.waitReason) ? 22 : 0),
  );
  const nodes = layout.nodes;
  const height = layout.height + 8;
  return (
    <div class="dag-scroll" data-testid="job-graph">
      <div class="dag" style={{ width: `${layout.width}px`, height: `${height}px` }}>
        <svg class="dag-edges" width={layout.width} height={height} aria-hidden="true">
          {layout.edges.map((e) => (
            <path key={`${e.from}>${e.to}`} d={e.path} />
          ))}
        </svg>
        {nodes.map((n) => (
          <Node
            key={n.id}
            node={n}
            open={open[n.id] === true}
            toggle={() => setOpen({ ...open, [n.id]: !open[n.id] })}
          />
        ))}
      </div>
    </div>
  );
}
