// Test helpers for the HTTP layer: a real migrated database per test file, stub core services
// that record their calls (the real core is tested elsewhere), and a server built over them.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import pino from "pino";
import { Histogram, Registry } from "prom-client";
import type { WebSocket } from "ws";
import { loadServerConfig, buildServer, type ServerConfig, type ServerDeps } from "../../src/server/index.js";
import { createApiToken, createUser } from "../../src/auth/index.js";
import type {
  AgentHub,
  LogChunk,
  LogHub,
  RunSummary,
  RerunOptions,
  RunsService,
  TriggerRequest,
  DispatchRequest,
} from "../../src/orchestrator/types.js";
import { openKms, type Kms } from "../../src/secrets/index.js";
import type { SourceEvent } from "../../src/sources/index.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";

export const PUBLIC_URL = "https://ci.example.test/airlock";

export class StubRuns implements RunsService {
  triggers: Array<{ repositoryId: number; req: TriggerRequest }> = [];
  events: Array<{ repositoryId: number; event: SourceEvent; trigger: string }> = [];
  cancels: number[] = [];
  reruns: number[] = [];
  rerunRequests: Array<{ runId: number } & RerunOptions> = [];
  fail: Error | undefined;

  private summary(repositoryId: number, id: number): RunSummary {
    return {
      id,
      repositoryId,
      number: id,
      event: "push",
      ref: "refs/heads/main",
      commit: "a".repeat(40),
      state: "queued",
      conclusion: null,
      attempt: 1,
      url: `${PUBLIC_URL}/api/v1/runs/${id}`,
    };
  }
  trigger(repositoryId: number, req: TriggerRequest): Promise<RunSummary[]> {
    this.triggers.push({ repositoryId, req });
    return Promise.resolve([this.summary(repositoryId, 1)]);
  }
  handleSourceEvent(
    repositoryId: number,
    event: SourceEvent,
    trigger: "webhook" | "poll",
  ): Promise<RunSummary[]> {
    if (this.fail) return Promise.reject(this.fail);
    this.events.push({ repositoryId, event, trigger });
    return Promise.resolve([this.summary(repositoryId, this.events.length)]);
  }
  dispatches: Array<{ repositoryId: number; req: DispatchRequest }> = [];
  dispatch(repositoryId: number, req: DispatchRequest): Promise<RunSummary[]> {
    this.dispatches.push({ repositoryId, req });
    return Promise.resolve([this.summary(repositoryId, 1)]);
  }
  cancel(runId: number): Promise<void> {
    this.cancels.push(runId);
    return Promise.resolve();
  }
  gated: number[][] = [];
  gatesChanged(ended: number[]): void {
    this.gated.push(ended);
  }
  approvals: Array<{ runId: number; by: string; approved: boolean }> = [];
  approve(runId: number, by: string): Promise<number[]> {
    this.approvals.push({ runId, by, approved: true });
    return Promise.resolve([runId]);
  }
  reject(runId: number, by: string): Promise<void> {
    this.approvals.push({ runId, by, approved: false });
    return Promise.resolve();
  }
  cancelledJobs: number[] = [];
  cancelJobs(jobIds: readonly number[]): Promise<void> {
    this.cancelledJobs.push(...jobIds);
    return Promise.resolve();
  }
  placementChanged(): void {}
  /** A re-run is the run's next attempt: same id, attempt 2. */
  rerun(runId: number, req: RerunOptions = {}): Promise<RunSummary> {
    this.reruns.push(runId);
    this.rerunRequests.push({ runId, ...req });
    return Promise.resolve({ ...this.summary(1, runId), attempt: 2 });
  }
}

export class StubLogs implements LogHub {
  private readonly listeners = new Map<number, Set<(c: LogChunk) => void>>();
  private readonly done = new Map<number, () => void>();
  private readonly donePromises = new Map<number, Promise<void>>();
  subscribed: number[] = [];
  /** Called when a subscriber arrives (lets a test act between subscribe and backlog read). */
  onSubscribe: ((jobId: number) => void) | undefined;

  subscribe(jobId: number, listener: (chunk: LogChunk) => void): () => void {
    this.subscribed.push(jobId);
    let set = this.listeners.get(jobId);
    if (!set) this.listeners.set(jobId, (set = new Set()));
    set.add(listener);
    this.onSubscribe?.(jobId);
    return () => set.delete(listener);
  }
  listenerCount(jobId: number): number {
    return this.listeners.get(jobId)?.size ?? 0;
  }
  emit(chunk: LogChunk): void {
    for (const l of this.listeners.get(chunk.jobId) ?? []) l(chunk);
  }
  whenJobDone(jobId: number): Promise<void> {
    let p = this.donePromises.get(jobId);
    if (!p) {
      p = new Promise<void>((resolve) => this.done.set(jobId, resolve));
      this.donePromises.set(jobId, p);
    }
    return p;
  }
  finish(jobId: number): void {
    void this.whenJobDone(jobId);
    this.done.get(jobId)?.();
  }
}

export class StubAgents implements AgentHub {
  accepted: Array<{ socket: WebSocket; nodeId: number }> = [];
  /** Why each disconnect was asked for, by node. */
  reasons: Array<{ nodeId: number; reason: string | undefined }> = [];
  accept(socket: WebSocket, nodeId: number): void {
    this.accepted.push({ socket, nodeId });
  }
  connectedNodes(): number {
    return this.accepted.length;
  }
  isDraining(): boolean {
    return false;
  }
  disconnected: number[] = [];
  disconnect(nodeId: number, reason?: string): void {
    this.disconnected.push(nodeId);
    this.reasons.push({ nodeId, reason });
  }
}

export interface TestServer {
  db: TestDatabase;
  app: FastifyInstance;
  config: ServerConfig;
  runs: StubRuns;
  logs: StubLogs;
  agents: StubAgents;
  /** A local KMS with its key file in a temporary folder. */
  kms: Kms;
  admin: string;
  /** Authorization header with the admin token. */
  auth: { authorization: string };
  close(): Promise<void>;
}

/** A node the way agents make one: a registration token (admin API), exchanged (agent route). */
export async function registerTestNode(
  s: Pick<TestServer, "app" | "auth">,
  body: { name: string; labels?: string[]; requiredLabels?: string[] },
): Promise<{ nodeId: number; credential: string; registrationToken: string }> {
  const made = await s.app.inject({
    method: "POST",
    url: "/api/v1/nodes/registrations",
    headers: s.auth,
    payload: body,
  });
  if (made.statusCode !== 201) throw new Error(`registration: ${made.statusCode} ${made.body}`);
  const registrationToken = (JSON.parse(made.body) as { token: string }).token;
  const done = await s.app.inject({
    method: "POST",
    url: "/api/v1/agent/register",
    headers: { authorization: `Bearer ${registrationToken}` },
  });
  if (done.statusCode !== 201) throw new Error(`exchange: ${done.statusCode} ${done.body}`);
  const { nodeId, credential } = JSON.parse(done.body) as { nodeId: number; credential: string };
  return { nodeId, credential, registrationToken };
}

export async function startTestServer(
  overrides: Partial<ServerConfig> = {},
  extra: Pick<ServerDeps, "nodeAuthLimiter" | "authFailures" | "idTokenLimiter" | "webRoot"> = {},
): Promise<TestServer> {
  const db = await createTestDatabase();
  const config = loadServerConfig({
    env: {},
    overrides: { publicUrl: PUBLIC_URL, listenPort: 0, ...overrides },
  });
  const runs = new StubRuns();
  const logs = new StubLogs();
  const agents = new StubAgents();
  const registry = new Registry();
  const dispatchLatency = new Histogram({
    name: "airlock_dispatch_latency_seconds",
    help: "enqueue to agent ack",
    registers: [registry],
  });
  const kmsDir = await mkdtemp(join(tmpdir(), "airlock-server-kms-"));
  const kms = await openKms({ provider: "local", keyFile: join(kmsDir, "kms.key") });
  const app = await buildServer({
    pool: db.pool,
    config,
    runs,
    logs,
    agents,
    logger: pino({ level: "silent" }),
    metrics: { registry, dispatchLatency },
    kms,
    ...extra,
  });
  // The server administrator every test acts as: a user with a personal token of scope admin.
  const adminUser = await createUser(db.pool, { name: "ops", serverAdmin: true });
  const admin = (
    await createApiToken(db.pool, {
      kind: "personal",
      name: "tests",
      scopes: ["admin"],
      userId: adminUser.id,
    })
  ).token;
  return {
    db,
    app,
    config,
    runs,
    logs,
    agents,
    kms,
    admin,
    auth: { authorization: `Bearer ${admin}` },
    close: async () => {
      await app.close();
      await kms.close();
      await rm(kmsDir, { recursive: true, force: true });
      await db.drop();
    },
  };
}
