// Test helpers for the artifact service: a real server on a loopback port (real PostgreSQL, a local
// blob store in a temporary folder), job attempts seeded in the database, and a few raw twirp and
// blob calls for what the toolkit client would not do (refusals, tampering).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import pino from "pino";
import { Histogram, Registry } from "prom-client";
import {
  ArtifactService,
  deriveKeys,
  LocalBlobStore,
  type ArtifactServiceOptions,
} from "../../src/artifacts/index.js";
import { createApiToken, createUser } from "../../src/auth/index.js";
import { CacheService } from "../../src/caches/index.js";
import { freePort } from "../../src/db/index.js";
import { openKms, type Kms } from "../../src/secrets/index.js";
import { buildServer, loadServerConfig } from "../../src/server/index.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { seedOrganization, seedRepository, seedRun } from "../secrets/helpers.js";
import { StubAgents, StubLogs, StubRuns } from "../server/helpers.js";

export interface ArtifactServer {
  db: TestDatabase;
  app: FastifyInstance;
  url: string;
  svc: ArtifactService;
  store: LocalBlobStore;
  /** The cache service v2 on the same server, with its own blob store. */
  caches: CacheService;
  dir: string;
  close(): Promise<void>;
}

/**
 * `service`: options of the artifact service (quota, stale-upload age) beside the defaults;
 * `cacheQuotaBytes`: the cache service's.
 */
export async function startArtifactServer(
  opts: Partial<Pick<ArtifactServiceOptions, "quotaBytes" | "staleUploadHours">> & {
    cacheQuotaBytes?: number;
  } = {},
): Promise<ArtifactServer> {
  const db = await createTestDatabase();
  const dir = await mkdtemp(join(tmpdir(), "airlock-artifacts-"));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const config = loadServerConfig({ env: {}, overrides: { publicUrl: url, listenPort: port, dataDir: dir } });
  const kms: Kms = await openKms({ provider: "local", keyFile: join(dir, "kms.key") });
  const store = new LocalBlobStore(join(dir, "blobs"));
  const keys = deriveKeys(Buffer.alloc(32, 7));
  const { cacheQuotaBytes: _, ...service } = opts;
  const svc = new ArtifactService({ db: db.pool, store, keys, publicUrl: url, ...service });
  const caches = new CacheService({
    db: db.pool,
    store: new LocalBlobStore(join(dir, "caches")),
    keys,
    publicUrl: url,
    ...(opts.cacheQuotaBytes === undefined ? {} : { quotaBytes: opts.cacheQuotaBytes }),
  });
  const registry = new Registry();
  const dispatchLatency = new Histogram({ name: "d", help: "d", registers: [registry] });
  const app = await buildServer({
    pool: db.pool,
    config,
    runs: new StubRuns(),
    logs: new StubLogs(),
    agents: new StubAgents(),
    logger: pino({ level: "silent" }),
    metrics: { registry, dispatchLatency },
    kms,
    artifacts: svc,
    caches,
  });
  await app.listen({ host: "127.0.0.1", port });
  return {
    db,
    app,
    url,
    svc,
    store,
    caches,
    dir,
    close: async () => {
      await app.close();
      await kms.close();
      await db.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** What seeding an attempt needs: the database and a way to mint the attempt's runtime token. */
export interface AttemptHost {
  db: { pool: TestDatabase["pool"] };
  svc: Pick<ArtifactService, "mintRuntimeToken">;
}

export interface Attempt {
  runId: number;
  jobId: number;
  attempt: number;
  token: string;
}

let seq = 0;

/** A running job attempt (on a node, in a run of the given tier) and its runtime token. */
export async function runningAttempt(
  s: AttemptHost,
  opts: { runId?: number; tier?: "trusted" | "untrusted" } = {},
): Promise<Attempt> {
  const pool = s.db.pool;
  seq++;
  let runId = opts.runId;
  if (runId === undefined) {
    const org = await seedOrganization(pool, `org-${seq}`);
    runId = await seedRun(pool, await seedRepository(pool, org, `acme/app-${seq}`));
    await pool.query(`UPDATE runs SET trust_tier = $2 WHERE id = $1`, [runId, opts.tier ?? "trusted"]);
  }
  const node = await pool.query<{ id: string }>(`INSERT INTO nodes (name) VALUES ($1) RETURNING id`, [
    `node-${seq}`,
  ]);
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO jobs (run_id, key, job_id, name, workflow, description, state, attempt, node_id, started_at)
     VALUES ($1, $2, 'build', 'build', 'ci.yml', $3, 'running', 1, $4, now()) RETURNING id`,
    [runId, `ci.yml#build-${seq}#0`, { jobId: "build", timeoutMinutes: 60 }, node.rows[0]!.id],
  );
  const jobId = Number(rows[0]!.id);
  return { runId, jobId, attempt: 1, token: await s.svc.mintRuntimeToken(jobId, 1) };
}

/** One twirp call with a runtime token; the status and the parsed body. */
export async function twirp(
  s: Pick<ArtifactServer, "url">,
  token: string,
  method: string,
  body: Record<string, unknown>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${s.url}/twirp/github.actions.results.api.v1.ArtifactService/${method}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export const ids = (a: Attempt): Record<string, string> => ({
  workflow_run_backend_id: `run-${a.runId}`,
  workflow_job_run_backend_id: `job-${a.jobId}`,
});

/** Create, one block, block list: the signed upload URL and the artifact's id. */
export async function rawUpload(
  s: Pick<ArtifactServer, "url">,
  a: Attempt,
  name: string,
  bytes: Buffer,
): Promise<{ uploadUrl: string; artifactId: number }> {
  const made = await twirp(s, a.token, "CreateArtifact", { ...ids(a), name, version: 7 });
  if (made.status !== 200) throw new Error(`CreateArtifact: ${made.status} ${JSON.stringify(made.body)}`);
  const uploadUrl = String(made.body.signed_upload_url);
  const block = Buffer.from("block-0000").toString("base64");
  const put = await fetch(`${uploadUrl}&comp=block&blockid=${encodeURIComponent(block)}`, {
    // No content type: the blob route takes the body as bytes whatever it says.
    method: "PUT",
    body: bytes,
  });
  if (put.status !== 201) throw new Error(`Put Block: ${put.status} ${await put.text()}`);
  const list = await fetch(`${uploadUrl}&comp=blocklist`, {
    method: "PUT",
    headers: { "content-type": "application/xml" },
    body: `<?xml version="1.0" encoding="utf-8"?><BlockList><Latest>${block}</Latest></BlockList>`,
  });
  if (list.status !== 201) throw new Error(`Put Block List: ${list.status} ${await list.text()}`);
  return { uploadUrl, artifactId: Number(new URL(uploadUrl).pathname.split("/").pop()) };
}

/** Runs the real toolkit client (fixtures/toolkit-client.js) with a job's environment. */
export function toolkit(
  s: Pick<ArtifactServer, "url">,
  a: Attempt,
  workspace: string,
  args: string[],
): Promise<{ ok: boolean; out?: Record<string, unknown>; error?: string }> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ACTIONS_RUNTIME_TOKEN: a.token,
    ACTIONS_RESULTS_URL: `${s.url}/`,
    GITHUB_WORKSPACE: workspace,
    GITHUB_SERVER_URL: "https://github.com",
  };
  const script = join(import.meta.dirname, "fixtures", "toolkit-client.js");
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [script, ...args],
      { env, cwd: workspace, maxBuffer: 16 << 20 },
      (err, stdout) => {
        const line = stdout.split("\n").find((l) => l.startsWith("RESULT "));
        if (!line)
          return reject(
            new Error(`toolkit client printed no result: ${err?.message ?? "exit 0"}\n${stdout}`),
          );
        resolve(JSON.parse(line.slice("RESULT ".length)) as { ok: boolean; out?: Record<string, unknown> });
      },
    );
  });
}

/** FinalizeArtifact with the right size and digest: the twirp answer. */
export async function finalize(
  s: Pick<ArtifactServer, "url">,
  a: Attempt,
  name: string,
  bytes: Buffer,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const hash = createHash("sha256").update(bytes).digest("hex");
  return twirp(s, a.token, "FinalizeArtifact", {
    ...ids(a),
    name,
    size: String(bytes.length),
    hash: `sha256:${hash}`,
  });
}

/** Create, one block, block list, finalize (asserted to succeed): the artifact's id. */
export async function uploadFinalized(
  s: Pick<ArtifactServer, "url">,
  a: Attempt,
  name: string,
  bytes: Buffer,
): Promise<number> {
  const { artifactId } = await rawUpload(s, a, name, bytes);
  const f = await finalize(s, a, name, bytes);
  assert.equal(f.status, 200, JSON.stringify(f.body));
  return artifactId;
}

/** The names ListArtifacts shows the attempt (asserted to answer 200), sorted. */
export async function listedNames(s: Pick<ArtifactServer, "url">, a: Attempt): Promise<string[]> {
  const r = await twirp(s, a.token, "ListArtifacts", { ...ids(a) });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return (r.body.artifacts as Array<{ name: string }>).map((x) => x.name).sort();
}

/** A server administrator `ops` and a personal admin-scoped token of theirs (the REST API's caller). */
export async function adminToken(s: Pick<ArtifactServer, "db">): Promise<string> {
  const u = await createUser(s.db.pool, { name: "ops", serverAdmin: true });
  return (await createApiToken(s.db.pool, { kind: "personal", name: "t", scopes: ["admin"], userId: u.id }))
    .token;
}
