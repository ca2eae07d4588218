// claimQueuedJobs: locks the oldest queued jobs for one scheduling pass. Runs inside the caller's
// transaction (the locks last until it commits); SKIP LOCKED lets several orchestrator processes
// dispatch at once without ever placing the same job twice. Uses the jobs_queued index.
import type pg from "pg";
import { run } from "./sql.js";
import type { ClaimedJob } from "./types.js";

export const CLAIM = `
SELECT j.id, j.run_id, r.repository_id, p.organization_id, j.labels, j.attempt
FROM jobs j
JOIN runs r ON r.id = j.run_id
JOIN repositories p ON p.id = r.repository_id
WHERE j.state = 'queued'
ORDER BY j.queued_at, j.id
LIMIT $1
FOR UPDATE OF j SKIP LOCKED`;

interface Row {
  id: string;
  run_id: string;
  repository_id: string;
  organization_id: string;
  labels: string[];
  attempt: number;
}

export async function claimQueuedJobs(client: pg.PoolClient, limit: number): Promise<ClaimedJob[]> {
  const { rows } = await run<Row>(client, "claim", CLAIM, [limit]);
  return rows.map((r) => ({
    id: Number(r.id),
    runId: Number(r.run_id),
    repositoryId: Number(r.repository_id),
    organizationId: Number(r.organization_id),
    labels: r.labels,
    attempt: r.attempt,
  }));
}
