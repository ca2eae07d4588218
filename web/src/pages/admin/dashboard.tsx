// /admin: small tiles from GET /dashboard (queue depth, jobs and runs by state, nodes, capacity),
// refreshed every few seconds while the page is open. The dashboard counts server-wide facts
// (nodes.read): other users get the way to what they may manage instead.
import { useApi, useTitle } from "../../hooks.js";
import { ErrorLine, Section } from "../../components/ui.js";
import { useServerAdmin } from "./common.js";
import { capacityTiles, countRows } from "./logic.js";

export interface Dashboard {
  queueDepth: number;
  jobsByState: Record<string, number>;
  runsByState: Record<string, number>;
  nodes: { online: number; offline: number; draining: number; total?: number };
  capacity: unknown;
}

function Tile({ n, what, testId }: { n: number | string; what: string; testId?: string }) {
  return (
    <div class="tile" data-testid={testId}>
      <div class="n">{n}</div>
      <div class="what">{what}</div>
    </div>
  );
}

function Welcome() {
  return (
    <Section title="Administration">
      <p>
        Manage the <a href="/admin/repos">repositories</a> and <a href="/admin/orgs">organizations</a> you
        hold a role in (what you may change depends on your role), or{" "}
        <a href="/admin/account">your account</a>: password, second factor and API tokens.
      </p>
    </Section>
  );
}

export function DashboardPage() {
  useTitle("Administration");
  const admin = useServerAdmin();
  const d = useApi<Dashboard>(admin ? "/dashboard" : undefined, undefined, {
    pollMs: 5000,
    live: () => true,
  });
  if (!admin) return <Welcome />;
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
            {capacityTiles(d.data.capacity).map((t) => (
              <Tile n={t.n} what={t.what} />
            ))}
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
