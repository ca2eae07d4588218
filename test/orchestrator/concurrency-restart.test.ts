// Concurrency groups survive an orchestrator restart: a run waiting for its workflow's group (and
// a job waiting for its job-level group) still waits after the restart, with its reason, and
// starts when the holder ends in the new process. No node at all: the holders' jobs stay queued,
// so nothing moves unless the test moves it.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApiToken } from "../../src/auth/index.js";
import { startService, type Service } from "../../src/service/index.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { makeRepo, type TempRepo } from "../helpers/repo.js";
import { eventually } from "../helpers/service.js";

let db: TestDatabase;
let dataDir: string;
let service: Service | undefined;
let token = "";
let repo: TempRepo;

const start = (): Promise<Service> =>
  startService({
    env: {
      ...process.env,
      AIRLOCK_DATABASE_URL: db.url,
      AIRLOCK_DATA_DIR: dataDir,
      AIRLOCK_LOG_LEVEL: "silent",
    },
    overrides: { listenPort: 0 },
    cliConfigPath: null,
  });

async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${service!.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

const WORKFLOW = `on: push
concurrency: Release
jobs:
  build:
    runs-on: ubuntu-latest
    concurrency: shared-\${{ github.ref_name }}
    steps:
      - run: echo build
`;

before(async () => {
  db = await createTestDatabase();
  dataDir = await mkdtemp(join(tmpdir(), "airlock-concurrency-restart-"));
  repo = makeRepo({ ".github/workflows/release.yml": WORKFLOW });
});
after(async () => {
  await service?.stop();
  await db?.drop();
  await rm(dataDir, { recursive: true, force: true });
  repo?.remove();
});

const row = async (
  runId: number,
): Promise<{ state: string; conclusion: string | null; wait_reason: string | null }> =>
  (
    await db.pool.query<{ state: string; conclusion: string | null; wait_reason: string | null }>(
      `SELECT state, conclusion, wait_reason FROM runs WHERE id = $1`,
      [runId],
    )
  ).rows[0]!;
const jobs = async (runId: number): Promise<Array<{ state: string; wait_reason: string | null }>> =>
  (
    await db.pool.query<{ state: string; wait_reason: string | null }>(
      `SELECT state, wait_reason FROM jobs WHERE run_id = $1`,
      [runId],
    )
  ).rows;

describe("concurrency groups across an orchestrator restart", () => {
  it("a waiting run still waits after a restart and starts when the holder ends", async () => {
    service = await start();
    token = service.adminToken!;
    const r = await api<{ id: number }>("POST", "/api/v1/repositories", {
      name: "acme/release",
      cloneUrl: repo.dir,
    });
    assert.equal(r.status, 201);
    const trigger = async (): Promise<number> => {
      const t = await api<{ runs: Array<{ id: number }> }>(
        "POST",
        `/api/v1/repositories/${r.body.id}/runs`,
        {},
      );
      assert.equal(t.status, 201);
      return t.body.runs[0]!.id;
    };
    const first = await trigger();
    // No node: the first run holds the group, its job queued.
    await eventually(
      async () => ((await jobs(first)).length === 1 ? true : undefined),
      "the first run's job",
    );
    const second = await trigger();
    const reason = `waiting for concurrency group 'Release' (run ${first} is running)`;
    await eventually(
      async () => ((await row(second)).wait_reason === reason ? true : undefined),
      "the second run to wait",
    );

    await service.stop();
    service = await start();
    const { rows } = await db.pool.query<{ id: string }>(`SELECT id FROM users WHERE name = 'admin'`);
    const userId = Number(rows[0]!.id);
    token = (
      await createApiToken(db.pool, {
        kind: "personal",
        name: "t",
        scopes: ["admin"],
        userId,
        createdBy: userId,
      })
    ).token;

    // The restarted orchestrator drives both again: the second still waits, with no job.
    assert.equal((await api<{ state: string }>("GET", `/api/v1/runs/${first}`)).body.state, "running");
    const waiting = await api<{ state: string; waitReason: string | null }>("GET", `/api/v1/runs/${second}`);
    assert.equal(waiting.body.state, "queued");
    assert.equal(waiting.body.waitReason, reason);
    assert.deepEqual(await jobs(second), []);

    // The holder ends in the new process: the waiting run starts, its job is queued.
    const c = await api("POST", `/api/v1/runs/${first}/cancel`);
    assert.ok(c.status < 300, JSON.stringify(c.body));
    await eventually(
      async () => ((await row(first)).state === "completed" ? true : undefined),
      "the first run to end",
    );
    const started = await eventually(async () => {
      const j = await jobs(second);
      return j.length === 1 ? j : undefined;
    }, "the second run's job");
    assert.equal(started[0]?.state, "queued");
    assert.ok(!(started[0]?.wait_reason ?? "").startsWith("waiting for concurrency group"));
    const now = await row(second);
    assert.equal(now.state, "running");
    assert.equal(now.wait_reason, null);
  });
});
