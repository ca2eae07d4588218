// The benchmarks' surroundings: one temp folder (removed at the end), one embedded PostgreSQL
// server in it (stopped at the end), a fresh database per measured phase, and the real service
// started in-process on such a database. Everything started here is stopped by `close()`.
import { chmod, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { startEmbedded, type EmbeddedServer } from "../../src/db/index.js";
import { startService, type Service } from "../../src/service/index.js";
import type { ServerConfig } from "../../src/server/index.js";

export interface BenchEnv {
  /** The temp folder everything lives in (mode 0755: the embedded server's user must reach it). */
  root: string;
  server: EmbeddedServer;
  /** A new, empty database on the embedded server; its URL. */
  newDatabase(): Promise<string>;
  /** A new sub-folder of root. */
  dir(name: string): Promise<string>;
  close(): Promise<void>;
}

export async function openBenchEnv(prefix: string): Promise<BenchEnv> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  await chmod(root, 0o755);
  let server: EmbeddedServer;
  try {
    server = await startEmbedded({ dataDir: join(root, "db"), log: () => undefined });
  } catch (err) {
    await rm(root, { recursive: true, force: true });
    throw err;
  }
  let n = 0;
  let closing: Promise<void> | undefined;
  return {
    root,
    server,
    async newDatabase() {
      const name = `bench_${++n}`;
      const admin = new pg.Client({ connectionString: server.url });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      const url = new URL(server.url);
      url.pathname = `/${name}`;
      return url.toString();
    },
    async dir(name) {
      const d = join(root, name);
      await mkdir(d, { recursive: true });
      return d;
    },
    close: () =>
      (closing ??= (async () => {
        await server.stop();
        await rm(root, { recursive: true, force: true });
      })()),
  };
}

export interface BenchService {
  service: Service;
  token: string;
  api: <T = unknown>(method: string, path: string, body?: unknown) => Promise<T>;
  /** A one-time registration token for a node (its agent exchanges it when it starts). */
  addNode(name: string): Promise<string>;
}

/** The real service, in-process, on a fresh database of `env`, logging nothing. */
export async function startBenchService(
  env: BenchEnv,
  name: string,
  overrides: Partial<ServerConfig> = {},
): Promise<BenchService> {
  const databaseUrl = await env.newDatabase();
  const cleanEnv: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("AIRLOCK_")) cleanEnv[k] = v;
  delete cleanEnv.DATABASE_URL;
  const service = await startService({
    env: {
      ...cleanEnv,
      AIRLOCK_DATABASE_URL: databaseUrl,
      AIRLOCK_DATA_DIR: await env.dir(name),
      AIRLOCK_LOG_LEVEL: "silent",
    },
    overrides: { listenPort: 0, ...overrides },
    cliConfigPath: null,
  });
  const token = service.adminToken;
  if (!token) {
    await service.stop();
    throw new Error("a fresh database must create an admin token");
  }
  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${service.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  };
  return {
    service,
    token,
    api,
    async addNode(nodeName) {
      return (await api<{ token: string }>("POST", "/api/v1/nodes/registrations", { name: nodeName })).token;
    },
  };
}

/** Polls `check` every `everyMs` until it returns a value, failing after `timeoutMs`. */
export async function until<T>(
  check: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 60_000,
  everyMs = 20,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
