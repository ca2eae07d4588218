// The embedded PostgreSQL: a real server run as an unprivileged user, stopped cleanly and
// idempotently, recovering from a crashed run; and the DATABASE_URL mode beside it.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  clusterPaths,
  defaultMigrationsDir,
  loadMigrations,
  startDatabase,
  startEmbedded,
} from "../../src/db/index.js";
import { isAirlockError } from "../../src/errors/index.js";
import { freePort, isAlive, startTicks } from "../../src/db/proc.js";
import { createTestDatabase } from "../helpers/db.js";

const root = process.getuid?.() === 0;
const dirs: string[] = [];

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "airlock-db-test-"));
  await chmod(dir, 0o755);
  dirs.push(dir);
  return dir;
}

async function postmasterPid(dir: string): Promise<number> {
  const text = await readFile(join(clusterPaths(dir).pgdata, "postmaster.pid"), "utf8");
  return Number.parseInt(text.split("\n")[0] ?? "", 10);
}

async function uidOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const line = status.split("\n").find((l) => l.startsWith("Uid:")) ?? "";
  return Number.parseInt(line.split(/\s+/)[1] ?? "", 10);
}

void after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

void describe("embedded PostgreSQL", () => {
  void it("runs as an unprivileged user, migrates, and stops idempotently", async () => {
    const dir = await dataDir();
    const db = await startDatabase({ dataDir: dir });
    let pid: number | undefined;
    try {
      assert.equal(db.embedded, true);
      pid = await postmasterPid(dir);
      const uid = await uidOf(pid);
      if (root) assert.notEqual(uid, 0);
      else assert.equal(uid, process.getuid?.());
      assert.equal((await stat(clusterPaths(dir).pgdata)).uid, uid);
      const { rows } = await db.pool.query("SELECT count(*)::int AS n FROM airlock_instance");
      assert.equal(rows[0].n, 1);
    } finally {
      await db.stop();
    }
    await db.stop();
    assert.equal(isAlive(pid), false);
    await assert.rejects(readFile(join(clusterPaths(dir).pgdata, "postmaster.pid")));
  });

  void it("keeps its data across restarts and refuses a second start on a running data directory", async () => {
    const dir = await dataDir();
    const first = await startDatabase({ dataDir: dir });
    let id: string;
    try {
      id = (await first.pool.query("SELECT id FROM airlock_instance")).rows[0].id;
      await assert.rejects(startDatabase({ dataDir: dir }), (e: unknown) => isAirlockError(e, "DB_FAILED"));
    } finally {
      await first.stop();
    }
    const second = await startDatabase({ dataDir: dir });
    try {
      assert.equal((await second.pool.query("SELECT id FROM airlock_instance")).rows[0].id, id);
    } finally {
      await second.stop();
    }
  });

  void it("takes over from a crashed run, stopping the server it left behind", async () => {
    const dir = await dataDir();
    const child = spawn(
      process.execPath,
      ["--import", "tsx", join(import.meta.dirname, "fixtures", "start-and-hang.ts"), dir],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const exited = new Promise((resolve) => child.once("exit", resolve));
    let out = "";
    child.stdout.setEncoding("utf8");
    for await (const chunk of child.stdout) {
      out += chunk as string;
      if (out.includes("\n")) break;
    }
    const orphan = Number.parseInt(out, 10);
    child.kill("SIGKILL");
    await exited;
    assert.equal(isAlive(orphan), true, "the crashed run's server is still running");
    const server = await startEmbedded({ dataDir: dir, log: () => undefined });
    try {
      assert.equal(isAlive(orphan), false);
      assert.notEqual(server.pid, orphan);
    } finally {
      await server.stop();
    }
    assert.equal(isAlive(server.pid), false);
  });

  void it("starts despite a stale postmaster.pid whose process is gone", async () => {
    const dir = await dataDir();
    await (await startEmbedded({ dataDir: dir, log: () => undefined })).stop();
    const gone = spawn("true");
    await new Promise((resolve) => gone.once("exit", resolve));
    const pidFile = join(clusterPaths(dir).pgdata, "postmaster.pid");
    await writeFile(pidFile, `${gone.pid}\n${clusterPaths(dir).pgdata}\n`);
    const server = await startEmbedded({ dataDir: dir, log: () => undefined });
    try {
      assert.equal(await postmasterPid(dir), server.pid);
    } finally {
      await server.stop();
    }
  });

  void it("refuses a data directory another live process runs, but not one whose pid was reused", async () => {
    const dir = await dataDir();
    await (await startEmbedded({ dataDir: dir, log: () => undefined })).stop();
    const other = spawn("sleep", ["60"]);
    try {
      const { ownerFile } = clusterPaths(dir);
      await writeFile(ownerFile, `${other.pid} ${startTicks(other.pid ?? 0)}\n`);
      await assert.rejects(startEmbedded({ dataDir: dir, log: () => undefined }), (e: unknown) =>
        isAirlockError(e, "DB_FAILED"),
      );
      await writeFile(ownerFile, `${other.pid} 1\n`); // same pid, another start time: a reused pid
      const server = await startEmbedded({ dataDir: dir, log: () => undefined });
      await server.stop();
    } finally {
      other.kill();
    }
  });

  void it("reports DB_FAILED when its user cannot reach the data directory", async (t) => {
    if (!root) return t.skip("only as root (the server then runs as another user)");
    const dir = await dataDir();
    const hidden = join(dir, "private");
    await mkdir(hidden, { mode: 0o700 });
    await assert.rejects(startDatabase({ dataDir: join(hidden, "airlock") }), (e: unknown) =>
      isAirlockError(e, "DB_FAILED"),
    );
  });
});

void describe("DATABASE_URL", () => {
  void it("uses the given server, migrates it, and starts nothing", async () => {
    const target = await createTestDatabase({ empty: true });
    const dir = await dataDir();
    try {
      const db = await startDatabase({ dataDir: dir, databaseUrl: target.url });
      try {
        assert.equal(db.embedded, false);
        assert.equal(db.url, target.url);
        const { rows } = await target.pool.query("SELECT version FROM schema_migrations ORDER BY version");
        const expected = (await loadMigrations(defaultMigrationsDir())).map((m) => m.version);
        assert.deepEqual(
          rows.map((r) => r.version),
          expected,
        );
      } finally {
        await db.stop();
        await db.stop();
      }
      await assert.rejects(stat(clusterPaths(dir).base));
      await assert.rejects(db.pool.query("SELECT 1"));
    } finally {
      await target.drop();
    }
  });

  void it("reports DB_FAILED when the server cannot be reached", async () => {
    const port = await freePort();
    await assert.rejects(
      startDatabase({ dataDir: await dataDir(), databaseUrl: `postgres://nobody:x@127.0.0.1:${port}/none` }),
      (e: unknown) => isAirlockError(e, "DB_FAILED") && e.retryable,
    );
  });
});
