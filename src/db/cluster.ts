// The embedded cluster on disk, under `<dataDir>/postgres/`:
//   data/       PGDATA, owned by the user the server runs as, mode 0700
//   password    the superuser password (readable by Airlock only)
//   server.log  the server's own output
//   owner.pid   the Airlock process currently running this cluster
// Creates the cluster with initdb on first use and clears what a crashed run left behind.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chown, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { AirlockError, ErrorCode } from "../errors/index.js";
import { commandLine, isAlive, looksLikePostgres, startTicks, waitGone } from "./proc.js";
import type { RunAs } from "./system-user.js";

const run = promisify(execFile);

export const SUPERUSER = "airlock";

export interface ClusterPaths {
  base: string;
  pgdata: string;
  passwordFile: string;
  logFile: string;
  ownerFile: string;
}

export function clusterPaths(dataDir: string): ClusterPaths {
  const base = resolve(dataDir, "postgres");
  return {
    base,
    pgdata: join(base, "data"),
    passwordFile: join(base, "password"),
    logFile: join(base, "server.log"),
    ownerFile: join(base, "owner.pid"),
  };
}

/** Environment for initdb/postgres: ours minus PG* variables, which would redirect them. */
export function serverEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("PG")) env[k] = v;
  env.LC_ALL = "C";
  return env;
}

/** Runs initdb when PGDATA holds no cluster yet; returns the superuser password either way. */
export async function ensureCluster(paths: ClusterPaths, initdb: string, runAs: RunAs): Promise<string> {
  if (await exists(join(paths.pgdata, "PG_VERSION"))) {
    try {
      return (await readFile(paths.passwordFile, "utf8")).trim();
    } catch (cause) {
      throw new AirlockError(
        ErrorCode.DB_FAILED,
        `embedded PostgreSQL password file is missing: ${paths.passwordFile}`,
        {
          cause,
        },
      );
    }
  }
  // No PG_VERSION: never initialised, or initdb was interrupted. Start from an empty folder.
  await rm(paths.pgdata, { recursive: true, force: true });
  await mkdir(paths.pgdata, { recursive: true, mode: 0o700 });
  await chown(paths.pgdata, runAs.uid, runAs.gid);
  if (runAs.user) await checkReachable(paths.pgdata, runAs);
  const password = randomBytes(24).toString("hex");
  await writeFile(paths.passwordFile, `${password}\n`, { mode: 0o600 });
  const pwfile = join(paths.base, `initdb-pw-${process.pid}`);
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  await chown(pwfile, runAs.uid, runAs.gid);
  try {
    await run(
      initdb,
      [
        `--pgdata=${paths.pgdata}`,
        `--username=${SUPERUSER}`,
        `--pwfile=${pwfile}`,
        "--auth=scram-sha-256",
        "--encoding=UTF8",
        "--no-locale",
        "--no-instructions",
      ],
      { uid: runAs.uid, gid: runAs.gid, cwd: "/", env: serverEnv() },
    );
  } catch (cause) {
    const stderr = (cause as { stderr?: string }).stderr ?? "";
    throw new AirlockError(ErrorCode.DB_FAILED, `initdb failed for ${paths.pgdata}: ${stderr.trim()}`, {
      cause,
    });
  } finally {
    await rm(pwfile, { force: true });
  }
  return password;
}

/** As root, PGDATA may sit below a folder the server's user cannot enter (e.g. /root): say so plainly. */
async function checkReachable(dir: string, runAs: RunAs): Promise<void> {
  try {
    await run("test", ["-w", dir, "-a", "-x", dir], { uid: runAs.uid, gid: runAs.gid, cwd: "/" });
  } catch (cause) {
    throw new AirlockError(
      ErrorCode.DB_FAILED,
      `the embedded PostgreSQL runs as '${runAs.user}', which cannot reach ${dir} (a parent folder is not ` +
        "searchable by other users); choose a data directory elsewhere, or set DATABASE_URL",
      { cause },
    );
  }
}

const inThisProcess = new Set<string>();

/**
 * Marks the cluster as run by this process. Refuses if a live Airlock process already runs it;
 * takes over (stopping its orphaned server) if that process died.
 */
export async function claimCluster(
  paths: ClusterPaths,
  log: (line: string) => void,
): Promise<() => Promise<void>> {
  if (inThisProcess.has(paths.base)) {
    throw new AirlockError(
      ErrorCode.DB_FAILED,
      `embedded PostgreSQL in ${paths.base} is already started here`,
    );
  }
  const [ownerText = "", ownerStart = ""] = (await readFile(paths.ownerFile, "utf8").catch(() => ""))
    .trim()
    .split(" ");
  const owner = Number.parseInt(ownerText, 10);
  if (owner > 0 && owner !== process.pid && isAlive(owner) && startTicks(owner) === ownerStart) {
    throw new AirlockError(
      ErrorCode.DB_FAILED,
      `the data directory's PostgreSQL is in use by another Airlock process (pid ${owner})`,
    );
  }
  inThisProcess.add(paths.base);
  try {
    await writeFile(paths.ownerFile, `${process.pid} ${startTicks(process.pid)}\n`);
    await clearStaleServer(paths, log);
  } catch (err) {
    inThisProcess.delete(paths.base);
    throw err;
  }
  return async () => {
    inThisProcess.delete(paths.base);
    const now = await readFile(paths.ownerFile, "utf8").catch(() => "");
    if (Number.parseInt(now, 10) === process.pid) await rm(paths.ownerFile, { force: true });
  };
}

/** A postmaster.pid left by a crashed run: stop the orphaned server, or drop the file if its pid is gone. */
async function clearStaleServer(paths: ClusterPaths, log: (line: string) => void): Promise<void> {
  const pidFile = join(paths.pgdata, "postmaster.pid");
  const pid = Number.parseInt((await readFile(pidFile, "utf8").catch(() => "")).split("\n")[0] ?? "", 10);
  if (!(pid > 0)) return;
  const argv = isAlive(pid) ? commandLine(pid) : undefined;
  if (argv === undefined || !looksLikePostgres(argv)) {
    log(`removing stale ${pidFile} (pid ${pid} is not running PostgreSQL)`);
    await rm(pidFile, { force: true });
    return;
  }
  if (!argv.includes(paths.pgdata)) return; // Some other postgres: let the server's own interlock decide.
  log(`stopping orphaned PostgreSQL (pid ${pid}) left by a previous run`);
  process.kill(pid, "SIGINT"); // fast shutdown: clean, without waiting for clients
  if (await waitGone(pid, 30_000)) return;
  process.kill(pid, "SIGQUIT");
  if (await waitGone(pid, 10_000)) return;
  throw new AirlockError(
    ErrorCode.DB_FAILED,
    `orphaned PostgreSQL (pid ${pid}) in ${paths.pgdata} does not stop`,
  );
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/** Last lines of the server log, for error messages. */
export async function logTail(paths: ClusterPaths, lines = 15): Promise<string> {
  const text = await readFile(paths.logFile, "utf8").catch(() => "");
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}
