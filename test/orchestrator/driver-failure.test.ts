// A run whose driver fails (here: after a restart, its repository can no longer be fetched, so the
// workflow cannot be read again) must end as a failure that says why, and its waiting jobs must not
// stay in the queue: before, the run stayed "running" forever (until the next restart, which failed
// the same way) and its queued job would still have been dispatched to the next node.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startService, type Service } from "../../src/service/index.js";
import { createTestDatabase } from "../helpers/db.js";
import { makeRepo } from "../helpers/repo.js";
import { eventually, type RunView } from "../helpers/service.js";

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe("run driver failure", () => {
  it("fails the run and cancels its waiting jobs when the run cannot be driven after a restart", async () => {
    const db = await createTestDatabase();
    cleanups.push(() => db.drop());
    const dataDir = await mkdtemp(join(tmpdir(), "airlock-driver-fail-"));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const env = {
      ...process.env,
      AIRLOCK_DATABASE_URL: db.url,
      AIRLOCK_DATA_DIR: dataDir,
      AIRLOCK_LOG_LEVEL: "silent",
    };
    const start = (): Promise<Service> =>
      startService({ env, overrides: { listenPort: 0 }, cliConfigPath: null });
    let service = await start();
    cleanups.push(() => service.stop());
    const token = service.adminToken;
    assert.ok(token);
    const api = async <T>(
      method: string,
      path: string,
      body?: unknown,
    ): Promise<{ status: number; body: T }> => {
      const res = await fetch(`${service.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: (await res.json()) as T };
    };

    const repo = makeRepo({
      ".github/workflows/ci.yml":
        "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi\n",
    });
    cleanups.push(() => repo.remove());
    const r = await api<{ id: number }>("POST", "/api/v1/repositories", {
      name: "acme/gone",
      cloneUrl: repo.dir,
    });
    assert.equal(r.status, 201);
    const trig = await api<{ runs: Array<{ id: number }> }>(
      "POST",
      `/api/v1/repositories/${r.body.id}/runs`,
      {},
    );
    const runId = trig.body.runs[0]?.id ?? -1;
    // No node: the job waits in the queue.
    await eventually(async () => {
      const run = await api<RunView>("GET", `/api/v1/runs/${runId}`);
      return run.body.jobs.length === 1 && run.body.jobs[0]?.state === "queued" ? true : undefined;
    }, "the job to be queued");

    await service.stop();
    // The repository and the orchestrator's mirror of it are gone: the restarted driver cannot fetch.
    repo.remove();
    await rm(join(dataDir, "mirrors"), { recursive: true, force: true });
    service = await start();

    const run = await eventually(
      async () => {
        const res = await api<RunView & { error: string | null }>("GET", `/api/v1/runs/${runId}`);
        return res.body.state === "completed" ? res.body : undefined;
      },
      "the run whose driver failed to complete",
      15_000,
    );
    assert.equal(run.conclusion, "failure");
    assert.equal(run.jobs[0]?.state, "completed");
    assert.equal(run.jobs[0]?.conclusion, "cancelled");
  });
});
