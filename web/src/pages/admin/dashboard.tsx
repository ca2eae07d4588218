// /admin: small tiles from GET /dashboard (queue depth, jobs and runs by state, nodes, capacity),
// refreshed every few seconds while the page is open.
import { useApi, useTitle } from "../../hooks.js";
import { ErrorLine, Section } from "../../components/ui.js";
import { countRows } from "./logic.js";

export interface Dashboard {
  queueDepth: number;
  jobsByState: Record<string, number>;
  runsByState: Record<string, number>;
  nodes: { online: number; offline: number; draining: number };
  capacity: Record<string, number> | number | null;
}

function Tile({ n, what, testId }: { n: number | string; what: string; testId?: string }) {
  return (
    <div class="tile" data-testid={testId}>
      <div class="n">{n}</div>
      <div class="what">{what}</div>
    </div>
  );
}

export function DashboardPage() {
  useTitle("Administration");
  const d = useApi<Dashboard>("/dashboard", undefined, { pollMs: 5000, live: () => true });
  const capacity = d.data?.capacity;
  return (
    <>
      <Section title="Now">
        <ErrorLine error={d.error} />
        {d.loading && !d.data && <p class="muted">Loading…</p>}
        {d.data && (
          <div class="tiles" data-testid="dashboard-tiles">
            <Tile n={d.data.queueDepth} what="jobs queued" testId="tile-queue" />
            <Tile n={d.data.nodes.online} what="nodes online" testId="tile-online" />
            <Tile n={d.data.nodes.draining} what="nodes draining" />
            <Tile n={d.data.nodes.offline} what="nodes offline" />
            {typeof capacity === "number" && <Tile n={capacity} what="capacity (slots)" />}
            {capacity &&
              typeof capacity === "object" &&
              countRows(capacity).map(([k, n]) => <Tile n={n} what={`capacity: ${k}`} />)}
          </div>
        )}
      </Section>
      {d.data && (
        <>
          <Section title="Jobs by state">
            <div class="tiles" data-testid="dashboard-jobs">
              {countRows(d.data.jobsByState).map(([k, n]) => (
                <Tile n={n} what={k} />
              ))}
            </div>
          </Section>
          <Section title="Runs by state">
            <div class="tiles" data-testid="dashboard-runs">
              {countRows(d.data.runsByState).map(([k, n]) => (
                <Tile n={n} what={k} />
              ))}
            </div>
          </Section>
        </>
      )}
    </>
  );
}
