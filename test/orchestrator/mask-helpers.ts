// Helper of the orchestrator masking tests: a queued job that has secrets, set through the API as
// a user would (repository level). The run is triggered with no node connected, so the job waits
// in the queue with its description holding them sealed; the node that connects afterwards is sent
// that description (and a real agent gets them released for its machine).
import assert from "node:assert/strict";
import { makeRepo, type TempRepo } from "../helpers/repo.js";
import { eventually, type TestService } from "../helpers/service.js";

export async function queuedJobWithSecrets(
  svc: TestService,
  repos: TempRepo[],
  workflow: string,
  secrets: Record<string, string>,
): Promise<{ runId: number; jobId: number }> {
  const repo = makeRepo({ ".github/workflows/ci.yml": workflow });
  repos.push(repo);
  const r = await svc.api<{ id: number }>("POST", "/api/v1/repositories", {
    name: `acme/mask-${repos.length}`,
    cloneUrl: repo.dir,
  });
  assert.equal(r.status, 201, r.text);
  for (const [name, value] of Object.entries(secrets)) {
    const set = await svc.api("PUT", `/api/v1/repositories/${r.body.id}/secrets/${name}`, { value });
    assert.equal(set.status, 201, set.text);
  }
  const trig = await svc.api<{ runs: Array<{ id: number }> }>(
    "POST",
    `/api/v1/repositories/${r.body.id}/runs`,
    {},
  );
  const runId = trig.body.runs[0]?.id ?? -1;
  const jobId = await eventually(async () => {
    const { rows } = await svc.db.pool.query<{ id: string }>(
      "SELECT id FROM jobs WHERE run_id = $1 AND state = 'queued'",
      [runId],
    );
    return rows[0] ? Number(rows[0].id) : undefined;
  }, "the queued job");
  return { runId, jobId };
}
