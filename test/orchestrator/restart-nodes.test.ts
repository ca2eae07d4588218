// After an orchestrator restart, nodes show as disconnected until their agents reconnect: a crash
// leaves `connected` set in the database, and the next process must not believe it.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startService, type Service } from "../../src/service/index.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";

let db: TestDatabase;
let dataDir: string;
let service: Service | undefined;
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

before(async () => {
  db = await createTestDatabase();
  dataDir = await mkdtemp(join(tmpdir(), "airlock-restart-"));
});
after(async () => {
  await service?.stop();
  await db?.drop();
  await rm(dataDir, { recursive: true, force: true });
});

describe("an orchestrator restart", () => {
  it("shows every node disconnected until its agent says hello again", async () => {
    service = await start();
    await service.stop();
    // What a crash leaves behind: a node marked connected, with no agent anywhere.
    await db.pool.query("INSERT INTO nodes (name, connected) VALUES ('ghost', true)");
    service = await start();
    const res = await fetch(`${service.url}/api/v1/nodes`, {
      headers: { authorization: `Bearer ${service.adminToken ?? (await adminToken())}` },
    });
    const nodes = (await res.json()) as Array<{ name: string; connected: boolean }>;
    assert.equal(nodes.find((n) => n.name === "ghost")?.connected, false);
  });
});

/** The first start saved an admin token in the database only as a hash: make a fresh one. */
async function adminToken(): Promise<string> {
  const { createApiToken } = await import("../../src/auth/index.js");
  const { rows } = await db.pool.query<{ id: string }>("SELECT id FROM users WHERE name = 'admin'");
  const { token } = await createApiToken(db.pool, {
    kind: "personal",
    name: "test",
    scopes: ["admin"],
    userId: Number(rows[0]!.id),
    createdBy: Number(rows[0]!.id),
  });
  return token;
}
