// The sender alone, on a real database with outbox rows written directly: a forge that never
// answers does not hold a shutdown (close() aborts the request; the row stays due with the reason,
// never the token), and the order rules of the outbox hold when several rows of one key wait.
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import { createForgeStatusSender } from "../../src/forge-status/index.js";
import { setSourceCredential } from "../../src/secrets/index.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { localKms, tempDir } from "../secrets/helpers.js";

const TOKEN = "tok-sender-0123456789abcdef";
const SHA = "b".repeat(40);
let db: TestDatabase;
let runId = 0;
let repoId = 0;
const held: ServerResponse[] = [];
let arrived: () => void = () => undefined;
const bodies: string[] = [];
let hang = true;
const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  let body = "";
  req.on("data", (c: Buffer) => (body += c.toString()));
  req.on("end", () => {
    bodies.push(body);
    arrived();
    if (hang) held.push(res);
    else res.writeHead(201).end("{}");
  });
});
const logLines: string[] = [];

before(async () => {
  db = await createTestDatabase();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  const repo = await db.pool.query<{ id: string }>(
    `INSERT INTO repositories (organization_id, name, clone_url, forge_kind, forge_api_url)
     VALUES (1, 'acme/app', '/srv/git/app', 'github', $1) RETURNING id`,
    [`http://127.0.0.1:${port}`],
  );
  repoId = Number(repo.rows[0]!.id);
  const run = await db.pool.query<{ id: string }>(
    `INSERT INTO runs (repository_id, number, event, ref, commit, trigger, workflow_name)
     VALUES ($1, 1, 'push', 'refs/heads/main', $2, 'manual', 'CI') RETURNING id`,
    [repoId, SHA],
  );
  runId = Number(run.rows[0]!.id);
});

after(async () => {
  for (const r of held) r.destroy();
  server.close();
  await db?.drop();
});

const sender = () =>
  createForgeStatusSender({
    pool: db.pool,
    logger: pino({ level: "trace" }, { write: (s: string) => void logLines.push(s) }),
    runUrl: (id) => `https://ci.example.com/api/v1/runs/${id}`,
    token: () => Promise.resolve(TOKEN),
    options: { retryMs: 0, maxAttempts: 5 },
  });

const queue = async (phase: string): Promise<number> => {
  const r = await db.pool.query<{ id: string }>(
    `INSERT INTO forge_statuses (run_id, repository_id, commit, context, phase)
     VALUES ($1, $2, $3, 'airlock/CI', $4) RETURNING id`,
    [runId, repoId, SHA, phase],
  );
  return Number(r.rows[0]!.id);
};

const rows = async (): Promise<string[][]> =>
  (
    await db.pool.query<{ phase: string; delivery: string }>(
      "SELECT phase, delivery FROM forge_statuses ORDER BY id",
    )
  ).rows.map((r) => [r.phase, r.delivery]);

describe("the forge status sender", () => {
  it("close() aborts a request a forge never answers; the row is retried, the reason kept without the token", async () => {
    await queue("running");
    bodies.length = 0;
    const s = sender();
    const came = new Promise<void>((r) => (arrived = r));
    const pass = s.sendDue();
    await came; // the request is at the forge, which holds it
    // A newer status queued meanwhile waits for the one in flight (never overtakes it).
    await queue("success");
    assert.equal(
      await sender().sendDue(),
      0,
      "another sender leaves the key alone while a row of it is in flight",
    );
    assert.equal(bodies.length, 1);
    s.close();
    assert.equal(await pass, 1);
    const r = await db.pool.query<{ delivery: string; last_error: string; attempts: number }>(
      "SELECT delivery, last_error, attempts FROM forge_statuses ORDER BY id LIMIT 1",
    );
    assert.equal(r.rows[0]!.delivery, "pending");
    assert.equal(r.rows[0]!.attempts, 1);
    assert.match(r.rows[0]!.last_error, /could not be reached/);
    assert.ok(!r.rows[0]!.last_error.includes(TOKEN));
    assert.ok(logLines.some((l) => l.includes("will retry")) && logLines.every((l) => !l.includes(TOKEN)));
  });

  it("then sends only the newest row of the key; the older one is superseded, never sent after it", async () => {
    hang = false;
    bodies.length = 0;
    assert.equal(await sender().sendDue(), 1);
    assert.deepEqual(
      bodies.map((b) => (JSON.parse(b) as { state: string }).state),
      ["success"],
    );
    assert.deepEqual(await rows(), [
      ["running", "superseded"],
      ["success", "sent"],
    ]);
    assert.equal(await sender().sendDue(), 0);
  });
});

describe("the trigger on runs", () => {
  it("queues one line of context however the workflow's name is written, and only with a forge token", async () => {
    const tmp = await tempDir();
    try {
      const kms = await localKms(tmp.dir);
      let number = 10;
      const insert = (name: string) =>
        db.pool.query<{ id: string }>(
          `INSERT INTO runs (repository_id, number, event, ref, commit, trigger, workflow_name, workflow_file)
           VALUES ($1, $4, 'push', 'refs/heads/main', $2, 'manual', $3, '.github/workflows/x.yml') RETURNING id`,
          [repoId, SHA, name, number++],
        );
      const before = (await db.pool.query("SELECT count(*)::int AS n FROM forge_statuses")).rows[0]
        .n as number;
      await insert("no token yet");
      assert.equal((await db.pool.query("SELECT count(*)::int AS n FROM forge_statuses")).rows[0].n, before);
      await setSourceCredential(
        db.pool,
        kms,
        { organizationId: 1, repositoryId: repoId },
        { kind: "forge-token", token: TOKEN },
        null,
      );
      const run = await insert("Build\nand\t\u0007test");
      const q = await db.pool.query<{ context: string; phase: string }>(
        "SELECT context, phase FROM forge_statuses WHERE run_id = $1",
        [run.rows[0]!.id],
      );
      assert.deepEqual(q.rows, [{ context: "airlock/Build and test", phase: "queued" }]);
      await db.pool.query("UPDATE runs SET state = 'running' WHERE id = $1", [run.rows[0]!.id]);
      await db.pool.query("UPDATE runs SET title = 'no state change' WHERE id = $1", [run.rows[0]!.id]);
      await db.pool.query("UPDATE runs SET state = 'completed', conclusion = 'cancelled' WHERE id = $1", [
        run.rows[0]!.id,
      ]);
      const all = await db.pool.query<{ phase: string }>(
        "SELECT phase FROM forge_statuses WHERE run_id = $1 ORDER BY id",
        [run.rows[0]!.id],
      );
      assert.deepEqual(
        all.rows.map((r) => r.phase),
        ["queued", "running", "cancelled"],
      );
    } finally {
      await tmp.remove();
    }
  });
});
