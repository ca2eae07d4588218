// Test databases: each test file gets its own fresh database, cloned (CREATE DATABASE … TEMPLATE)
// from a template that is migrated once per set of migrations (its name carries their hash) and
// built under an advisory lock, so parallel test files never migrate the same template twice.
// Server: AIRLOCK_TEST_DATABASE_URL or DATABASE_URL (scripts/test.sh starts one shared embedded
// server); otherwise this file starts its own embedded server and stops it when the last test
// database of the process is dropped.
import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import {
  loadMigrations,
  migrate,
  migrationsHash,
  startEmbedded,
  type EmbeddedServer,
} from "../../src/db/index.js";

export interface TestDatabase {
  pool: pg.Pool;
  url: string;
  name: string;
  /** Closes the pool and drops the database (and stops a server this helper started). Idempotent. */
  drop(): Promise<void>;
}

const TEMPLATE_LOCK_KEY = "7361626657432002";

let ownServer: Promise<{ server: EmbeddedServer; dir: string }> | undefined;
let live = 0;
const templates = new Map<string, Promise<string>>();

/** The server tests run against: the shared one when given, else one started here. */
export function testServerUrl(): string | undefined {
  return process.env.AIRLOCK_TEST_DATABASE_URL || process.env.DATABASE_URL || undefined;
}

export interface TestDatabaseOptions {
  /** Migrations the template is built from (default: Airlock's own). */
  migrationsDir?: string;
  /** An empty database, not migrated at all (for testing migrations themselves). */
  empty?: boolean;
}

export async function createTestDatabase(opts: TestDatabaseOptions = {}): Promise<TestDatabase> {
  live++;
  try {
    const serverUrl = testServerUrl() ?? (await startOwnServer()).server.url;
    const template = opts.empty ? "template0" : await ensureTemplate(serverUrl, opts.migrationsDir);
    const name = `airlock_test_${process.pid}_${randomBytes(4).toString("hex")}`;
    await withAdmin(serverUrl, (c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${template}`));
    const url = withDatabase(serverUrl, name);
    const pool = new pg.Pool({ connectionString: url, max: 5 });
    pool.on("error", () => undefined);
    let dropping: Promise<void> | undefined;
    const drop = (): Promise<void> =>
      (dropping ??= (async () => {
        try {
          await pool.end().catch(() => undefined);
          await withAdmin(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
        } finally {
          await release();
        }
      })());
    return { pool, url, name, drop };
  } catch (err) {
    await release();
    throw err;
  }
}

async function release(): Promise<void> {
  live--;
  if (live > 0 || !ownServer) return;
  const started = ownServer;
  ownServer = undefined;
  templates.clear();
  const { server, dir } = await started;
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}

function startOwnServer(): Promise<{ server: EmbeddedServer; dir: string }> {
  ownServer ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), "airlock-test-pg-"));
    await chmod(dir, 0o755); // the server runs as an unprivileged user when we are root
    return { server: await startEmbedded({ dataDir: dir, log: () => undefined }), dir };
  })();
  return ownServer;
}

function ensureTemplate(serverUrl: string, migrationsDir: string | undefined): Promise<string> {
  const key = `${serverUrl}\0${migrationsDir ?? ""}`;
  let found = templates.get(key);
  if (!found) {
    found = buildTemplate(serverUrl, migrationsDir);
    found.catch(() => templates.delete(key));
    templates.set(key, found);
  }
  return found;
}

async function buildTemplate(serverUrl: string, migrationsDir: string | undefined): Promise<string> {
  const hash = migrationsHash(await loadMigrations(migrationsDir)).slice(0, 16);
  const template = `airlock_template_${hash}`;
  await withAdmin(serverUrl, async (admin) => {
    await admin.query("SELECT pg_advisory_lock($1)", [TEMPLATE_LOCK_KEY]);
    try {
      const { rowCount } = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [template]);
      if (rowCount) return;
      // Build under another name and rename at the end: a half-built template is never cloned.
      const building = `${template}_build`;
      await admin.query(`DROP DATABASE IF EXISTS ${building} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${building}`);
      const pool = new pg.Pool({ connectionString: withDatabase(serverUrl, building), max: 1 });
      try {
        await migrate(pool, migrationsDir);
      } finally {
        await pool.end();
      }
      await admin.query(`ALTER DATABASE ${building} RENAME TO ${template}`);
      await admin.query(`ALTER DATABASE ${template} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false`);
    } finally {
      await admin.query("SELECT pg_advisory_unlock($1)", [TEMPLATE_LOCK_KEY]);
    }
  });
  return template;
}

async function withAdmin<T>(serverUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  client.on("error", () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}
