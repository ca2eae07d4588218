// Airlock's database layer, public face. PostgreSQL is the only dialect: with DATABASE_URL we use
// that server; without it we run an embedded one in the data directory. Migrations are applied at
// start-up (see migrate.ts). Arrows point one way: domain modules import this, never the reverse.
import pg from "pg";
import { AirlockError, ErrorCode } from "../errors/index.js";
import { startEmbedded } from "./embedded.js";
import { migrate } from "./migrate.js";

export { migrate, loadMigrations, migrationsHash, MIGRATION_LOCK_KEY, type Migration } from "./migrate.js";
export { defaultMigrationsDir } from "./package-root.js";
export { clusterPaths, type ClusterPaths } from "./cluster.js";
export { POSTGRES_SYSTEM_USER } from "./system-user.js";
export { startEmbedded, type EmbeddedServer } from "./embedded.js";
export { freePort } from "./proc.js";

export interface DatabaseOptions {
  /** Airlock's data directory; the embedded cluster lives in `<dataDir>/postgres/`. */
  dataDir: string;
  /** Use this server instead of the embedded one. */
  databaseUrl?: string;
  log?: (line: string) => void;
  /** Apply pending migrations (default true). */
  migrate?: boolean;
  /** Folder of migrations (default: the package's `migrations/`). */
  migrationsDir?: string;
  /** Pool size (default 10). */
  maxConnections?: number;
}

export interface Database {
  pool: pg.Pool;
  url: string;
  embedded: boolean;
  /** Closes the pool and stops the embedded server. Idempotent. */
  stop(): Promise<void>;
}

export async function startDatabase(opts: DatabaseOptions): Promise<Database> {
  const log = opts.log ?? (() => undefined);
  const server = opts.databaseUrl ? undefined : await startEmbedded({ dataDir: opts.dataDir, log });
  const url = server?.url ?? opts.databaseUrl ?? "";
  const pool = new pg.Pool({ connectionString: url, max: opts.maxConnections ?? 10 });
  let stopping: Promise<void> | undefined;
  // An idle client losing its connection (server restart) must not crash the process. While
  // stopping it is expected: pool.end() resolves before its sockets close and the server shuts down.
  pool.on("error", (err) => {
    if (!stopping) log(`database connection lost: ${err.message}`);
  });
  const db: Database = {
    pool,
    url,
    embedded: server !== undefined,
    stop: () =>
      (stopping ??= (async () => {
        await pool.end().catch(() => undefined);
        await server?.stop();
      })()),
  };
  try {
    await checkConnection(pool, url);
    if (opts.migrate !== false) {
      const applied = await migrate(pool, opts.migrationsDir);
      if (applied.length > 0) log(`applied migrations: ${applied.join(", ")}`);
    }
  } catch (err) {
    await db.stop();
    throw err;
  }
  return db;
}

async function checkConnection(pool: pg.Pool, url: string): Promise<void> {
  try {
    await pool.query("SELECT 1");
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new AirlockError(
      ErrorCode.DB_FAILED,
      `cannot connect to PostgreSQL at ${redactUrl(url)}: ${reason}`,
      {
        cause,
        retryable: true,
      },
    );
  }
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "<invalid DATABASE_URL>";
  }
}
