// The composition root of the orchestrator service: configuration, database (embedded unless a
// URL is given), migrations, admin token, the core, the HTTP server. `airlock server` and the
// demo command use it; tests start it in-process. stop() is idempotent and leaves nothing running.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import pino, { type Logger } from "pino";
import { Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { FastifyInstance } from "fastify";
import {
  ArtifactService,
  attestArtifact,
  markAwaitingRebuilds,
  onJobCompleted,
  settleRebuilds,
  deriveKeys,
  mintRuntimeToken,
  openBlobStore,
  openServiceKey,
} from "../artifacts/index.js";
import { CacheService } from "../caches/index.js";
import { appendAudit, auditChainError, verifyAuditDb } from "../audit/index.js";
import {
  ADMIN_USER,
  createApiToken,
  ensureAdminUser,
  findUserByName,
  type AdminBootstrap,
} from "../auth/index.js";
import { freePort, startDatabase, type Database } from "../db/index.js";
import { loadOptions } from "../config/index.js";
import { DEFAULT_IMAGE } from "../images/index.js";
import { AirlockError, ErrorCode } from "../errors/index.js";
import { createOrchestrator, type Orchestrator } from "../orchestrator/index.js";
import {
  checkKmsHoldsKeys,
  kmsKeysInUse,
  openKms,
  sealLegacyWebhookSecrets,
  sealLegacyCloneUrls,
  gitAuthOf,
  type Kms,
} from "../secrets/index.js";
import { buildServer, loadServerConfig, type ServerConfig } from "../server/index.js";

export interface ServiceOptions {
  configFile?: string;
  env?: NodeJS.ProcessEnv;
  overrides?: Partial<ServerConfig>;
  /** Where to write `{ server, token }` for the CLI when the admin token is created (default $AIRLOCK_HOME/cli.json). */
  cliConfigPath?: string | null;
  logger?: Logger;
  /** Makes the logger at the configured level (e.g. pretty on a terminal); default: JSON lines on stdout. */
  makeLogger?: (level: ServerConfig["logLevel"]) => Logger;
}

export interface Service {
  config: ServerConfig;
  /** The address the server listens on (http://host:port). */
  url: string;
  /** A personal token (scope admin) of the `admin` user made at the first start, for the CLI (printed once, saved in cli.json). */
  adminToken: string | undefined;
  /** The built-in `admin` user when this start made it (first start, or recreated after deletion). */
  adminUser: AdminBootstrap | undefined;
  db: Database;
  /** The KMS of the secrets' key hierarchy (config.kms). */
  kms: Kms;
  orchestrator: Orchestrator;
  app: FastifyInstance;
  stop(): Promise<void>;
}

export async function startService(o: ServiceOptions = {}): Promise<Service> {
  const env = o.env ?? process.env;
  let overrides = o.overrides ?? {};
  const asked = loadServerConfig({ ...(o.configFile ? { file: o.configFile } : {}), env, overrides });
  // Port 0 means "any free port": pick it now, so that the public address built from it is true.
  if (asked.listenPort === 0) overrides = { ...overrides, listenPort: await freePort(asked.listenHost) };
  const config = loadServerConfig({ ...(o.configFile ? { file: o.configFile } : {}), env, overrides });
  const logger =
    o.logger ??
    o.makeLogger?.(config.logLevel) ??
    pino({ level: config.logLevel, base: { service: "airlock" } });
  await mkdir(config.dataDir, { recursive: true });
  const db = await startDatabase({
    dataDir: config.dataDir,
    ...(config.databaseUrl ? { databaseUrl: config.databaseUrl } : {}),
    log: (line) => logger.debug({ component: "postgres" }, line),
  });
  const stops: Array<() => Promise<void>> = [() => db.stop()];
  const stopAll = async (): Promise<void> => {
    for (const s of stops.reverse()) await s().catch((err: unknown) => logger.error({ err }, "stop failed"));
    stops.length = 0;
  };
  try {
    // A broken audit chain stops start-up with one line naming the first broken entry: serving on
    // over it would bury the evidence under new entries. Start-up itself writes nothing to the log.
    const chain = await verifyAuditDb(db.pool);
    if (!chain.ok) throw auditChainError(chain, "the server refuses to start; see docs/security.md");
    await ensureDefaults(db);
    // No agent is connected to a process that has not started listening: whatever an earlier
    // process (stopped or crashed) left says nothing now. Nodes show as connected again when their
    // agents reconnect and say hello.
    await db.pool.query("UPDATE nodes SET connected = false WHERE connected");
    // The KMS: the local key file is made only at a first start (no data key wrapped yet), so a
    // lost or misplaced key file stops start-up instead of quietly starting a new hierarchy; a KMS
    // that lacks a key in use stops it too (one line: which keys, how many organizations).
    const kms = await openKms(config.kms, { create: (await kmsKeysInUse(db.pool)).size === 0 });
    stops.push(() => kms.close());
    await checkKmsHoldsKeys(db.pool, kms);
    // Webhook secrets written in clear before migration 013 are sealed now, and cleared.
    const sealed = await sealLegacyWebhookSecrets(db.pool, kms);
    if (sealed > 0)
      logger.info({ repositories: sealed }, "webhook secrets sealed under their organization keys");
    // Clone URLs stored with a password (before migration 018): the password is sealed as the
    // repository's clone-password credential and the URL kept without it.
    const cloneUrls = await sealLegacyCloneUrls(db.pool, kms);
    if (cloneUrls > 0)
      logger.info({ repositories: cloneUrls }, "clone URL passwords sealed under their organization keys");
    // The built-in `admin` user: made at first start, and again at the next start when deleted
    // (recorded in the audit log, since that hands out a new administrator password). Not with
    // built-in users switched off (auth.builtinUsers: false): then nobody logs in with a password.
    const admin: AdminBootstrap = config.auth.builtinUsers
      ? await ensureAdminUser(db.pool, join(config.dataDir, "admin-password"))
      : { outcome: "exists" };
    if (admin.outcome !== "exists") {
      const user = await findUserByName(db.pool, "admin");
      await appendAudit(db.pool, {
        actor: { kind: "system", display: "airlock server start" },
        action: admin.outcome === "created" ? "user.admin_created" : "user.admin_recreated",
        object: { kind: "user", id: user?.id ?? null },
        details: { passwordFile: admin.passwordFile },
      });
    }
    // At the first start the CLI on this machine gets a personal token of `admin` (scope admin,
    // DEFAULT_TOKEN_DAYS) in cli.json, mode 0600: an ordinary token, listed, revocable, expiring.
    const adminToken = admin.outcome === "created" ? await firstStartToken(db.pool) : undefined;
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const dispatchLatency = new Histogram({
      name: "airlock_dispatch_latency_seconds",
      help: "Time from a job being queued to its agent accepting it",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });
    // Blobs under <dataDir>/artifacts and <dataDir>/caches, or under <prefix>artifacts/ and
    // <prefix>caches/ of an S3-compatible bucket (config.blobStore); tokens and signed URLs under a
    // key of the orchestrator's.
    const artifactStore = openBlobStore(config.blobStore, config.dataDir, "artifacts");
    const cacheStore = openBlobStore(config.blobStore, config.dataDir, "caches");
    stops.push(() => {
      artifactStore.close();
      cacheStore.close();
      return Promise.resolve();
    });
    // A bucket that cannot be reached (endpoint, credentials, name) stops start-up with one line.
    await artifactStore.check();
    await cacheStore.check();
    const artifactKeys = deriveKeys(await openServiceKey(join(config.dataDir, "artifact-service.key")));
    const artifacts = new ArtifactService({
      db: db.pool,
      store: artifactStore.store,
      keys: artifactKeys,
      publicUrl: config.publicUrl,
      quotaBytes: config.artifactQuotaBytes,
      staleUploadHours: config.artifactStaleUploadHours,
      // Status and signed provenance, by the orchestrator, for every finalized artifact.
      attest: async (id) => {
        try {
          await attestArtifact(db.pool, kms, config.publicUrl, id);
          // Rebuilt under the repository's policy: it waits for their verdict (corroboration).
          await markAwaitingRebuilds(db.pool, id);
        } catch (err) {
          logger.error({ err, artifactId: id }, "artifact provenance could not be written");
        }
      },
    });
    const corroboration = { db: db.pool, kms, store: artifactStore.store, publicUrl: config.publicUrl };
    const orchestrator = createOrchestrator({
      pool: db.pool,
      config: { ...config, actionsUrl: loadOptions(env).actionsUrl },
      logger,
      kms,
      dispatchLatency,
      sourceAuth: (repo) => gitAuthOf(db.pool, kms, repo.id, repo.cloneUrl),
      runtimeToken: (client, jobId, attempt) => mintRuntimeToken(client, artifactKeys, jobId, attempt),
      // Independent rebuilds: a job's replicas queued, a replica's build judged (docs/integrity.md).
      jobCompleted: async (jobId) => {
        const r = await onJobCompleted(corroboration, jobId);
        if (r.replicas.length > 0)
          logger.info({ jobId, replicas: r.replicas }, "independent rebuilds queued");
        void r.verdict?.then(
          (o) => {
            if (o.mismatches.length > 0)
              logger.warn(
                { jobId, artifacts: o.mismatches },
                "independent builds differ: artifacts quarantined",
              );
          },
          (err: unknown) => logger.error({ err, jobId }, "independent builds could not be compared"),
        );
        return r.replicas.length > 0;
      },
      // Retention: expired artifacts and abandoned uploads (src/artifacts/retention.ts).
      background: [
        {
          // Rebuilds whose verdict never came (lost, or the orchestrator stopped in between).
          name: "corroboration-settle",
          everyMs: 30_000,
          tick: async () => {
            const n = await settleRebuilds(corroboration);
            if (n > 0) logger.info({ jobs: n }, "independent rebuilds settled");
          },
        },
        {
          name: "artifact-retention",
          everyMs: config.artifactSweepIntervalMs,
          tick: async () => {
            const r = await artifacts.sweep();
            if (r.expired + r.staleUploads > 0) logger.info(r, "artifact retention sweep");
          },
        },
      ],
    });
    const app = await buildServer({
      pool: db.pool,
      config,
      runs: orchestrator.runs,
      logs: orchestrator.logs,
      agents: orchestrator.agents,
      logger,
      metrics: { registry, dispatchLatency },
      kms,
      artifacts,
      // The cache service v2: the same runtime tokens, its own blob store area.
      caches: new CacheService({
        db: db.pool,
        store: cacheStore.store,
        keys: artifactKeys,
        publicUrl: config.publicUrl,
      }),
    });
    await app.listen({ host: config.listenHost, port: config.listenPort }).catch((err: unknown) => {
      throw listenError(err, config.listenHost, config.listenPort);
    });
    stops.push(() => app.close());
    await orchestrator.start();
    stops.push(() => orchestrator.stop());
    const addr = app.server.address();
    const port = typeof addr === "object" && addr ? addr.port : config.listenPort;
    const url = `http://${config.listenHost.includes(":") ? `[${config.listenHost}]` : config.listenHost}:${port}`;
    if (adminToken && o.cliConfigPath !== null) {
      const path = o.cliConfigPath ?? join(loadOptions(env).home, "cli.json");
      await mkdir(join(path, ".."), { recursive: true });
      await writeFile(
        path,
        JSON.stringify({ server: config.publicUrl, token: adminToken, user: ADMIN_USER }, null, 2) + "\n",
        {
          mode: 0o600,
        },
      );
    }
    let stopped: Promise<void> | undefined;
    return {
      config,
      url,
      adminToken,
      adminUser: admin.outcome === "exists" ? undefined : admin,
      db,
      kms,
      orchestrator,
      app,
      stop: () => (stopped ??= stopAll()),
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** A fresh installation gets the default image (each node builds it: `airlock image build debian-12`)
 * and a default flavour. */
async function ensureDefaults(db: Database): Promise<void> {
  await db.pool.query(`INSERT INTO images (name) SELECT $1 WHERE NOT EXISTS (SELECT 1 FROM images)`, [
    DEFAULT_IMAGE,
  ]);
  await db.pool.query(
    `INSERT INTO flavours (name, cpus, memory_mb, disk_mb)
     SELECT 'default', 1, 2048, 4096 WHERE NOT EXISTS (SELECT 1 FROM flavours)`,
  );
}

async function firstStartToken(pool: Database["pool"]): Promise<string | undefined> {
  const user = await findUserByName(pool, ADMIN_USER);
  if (!user) return undefined;
  const { token, info } = await createApiToken(pool, {
    kind: "personal",
    name: "cli (first start)",
    scopes: ["admin"],
    userId: user.id,
    createdBy: user.id,
  });
  await appendAudit(pool, {
    actor: { kind: "system", display: "airlock server start" },
    action: "token.created",
    object: { kind: "token", id: info.id },
    details: {
      name: info.name,
      kind: info.kind,
      publicId: info.publicId,
      userId: user.id,
      scopes: info.scopes,
      expiresAt: info.expiresAt,
    },
  });
  return token;
}

/** A port already taken is one line for the operator, not a stack trace. */
function listenError(err: unknown, host: string, port: number): unknown {
  if ((err as NodeJS.ErrnoException | undefined)?.code !== "EADDRINUSE") return err;
  const where = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  return new AirlockError(
    ErrorCode.ADDRESS_IN_USE,
    `cannot listen on ${where}: the address is in use (another airlock server? set --port or AIRLOCK_PORT)`,
    { cause: err },
  );
}
