// Test helpers for the orchestrator: the real service in-process (its own test database, a temp
// data folder), in-process agents on real sandboxes (registered the way every node is: a one-time
// registration token exchanged for a credential file), and a small REST client.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino, type Logger } from "pino";
import { startService, type Service } from "../../src/service/index.js";
import {
  createAgent,
  exchangeOnce,
  fileCredentialStore,
  fixedImages,
  type Agent,
  type CredentialStore,
} from "../../src/agent/index.js";
import { loadOptions } from "../../src/config/index.js";
import { DEFAULT_IMAGE, ImageStore } from "../../src/images/index.js";
import { createActionLoader, createGitWorkspaceSource } from "../../src/actions/index.js";
import {
  createFakeProvisioner,
  createSandboxProvisioner,
  type Provisioner,
} from "../../src/provisioners/index.js";
import type { NodeEgress } from "../../src/egress/index.js";
import type { ServerConfig } from "../../src/server/index.js";
import { createTestDatabase, type TestDatabase } from "./db.js";

export interface TestService {
  service: Service;
  db: TestDatabase;
  api<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T; text: string }>;
  /** A one-time registration token for a node (made when an agent exchanges it). */
  addNode(name: string, labels?: string[]): Promise<string>;
  /** Registers a node and exchanges its token here: the node's first credential (raw-socket tests). */
  nodeCredential(name: string, labels?: string[]): Promise<string>;
  /** An agent that registers with `registrationToken` (its credential file in its data folder). */
  startAgent(
    registrationToken: string,
    opts?: {
      fake?: boolean;
      labels?: string[];
      egress?: NodeEgress;
      dataDir?: string;
      credentials?: CredentialStore;
      /** The node's provisioners by name (default: one sandbox, or fake); closed at stop(). */
      provisioners?: Record<string, Provisioner>;
      /** Where the node fetches remote actions (default: nowhere). */
      actionsUrl?: string;
    },
  ): Promise<Agent>;
  waitRun(runId: number, timeoutMs?: number): Promise<RunView>;
  stop(): Promise<void>;
}

export interface JobView {
  id: number;
  name: string;
  state: string;
  conclusion: string | null;
  attempt: number;
  node: string | null;
  waitReason: string | null;
  steps: Array<{ name: string; conclusion: string | null }>;
}

export interface RunView {
  id: number;
  state: string;
  conclusion: string | null;
  jobs: JobView[];
}

export async function startTestService(
  overrides: Partial<ServerConfig> = {},
  /** A logger to read the server's log lines (default: silent); more environment (AIRLOCK_ACTIONS_URL). */
  opts: { logger?: Logger; env?: Record<string, string> } = {},
): Promise<TestService> {
  const db = await createTestDatabase();
  const dataDir = await mkdtemp(join(tmpdir(), "airlock-service-"));
  const service = await startService({
    env: {
      ...process.env,
      AIRLOCK_DATABASE_URL: db.url,
      AIRLOCK_DATA_DIR: dataDir,
      AIRLOCK_LOG_LEVEL: "silent",
      ...opts.env,
    },
    // A lease far longer than any pause a loaded 2-core machine makes between heartbeats: no test
    // may fail because a heartbeat came late. Tests about lease expiry set their own, short one.
    overrides: { listenPort: 0, leaseMs: 60_000, heartbeatMs: 1000, ...overrides },
    cliConfigPath: null,
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
  const token = service.adminToken;
  if (!token) throw new Error("a fresh test database must create an admin token");
  const agents: Agent[] = [];
  const provisioners: Provisioner[] = [];
  const api: TestService["api"] = async (method, path, body) => {
    const res = await fetch(`${service.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: res.status, body: parsed as never, text };
  };
  const addNode: TestService["addNode"] = async (name, labels = []) => {
    const r = await api<{ token: string }>("POST", "/api/v1/nodes/registrations", { name, labels });
    if (r.status !== 201) throw new Error(`nodes register-token: ${r.status} ${r.text}`);
    return r.body.token;
  };
  return {
    service,
    db,
    api,
    addNode,
    async nodeCredential(name, labels = []) {
      return (await exchangeOnce(service.url, await addNode(name, labels))).credential;
    },
    async startAgent(registrationToken, opts = {}) {
      // Machines get the flavour's limits (as root); filesystems are made on demand (no warm pool
      // formatting in the background of every test), and released when the test stops.
      const own = opts.provisioners ?? {
        sandbox: opts.fake ? createFakeProvisioner() : createSandboxProvisioner({ diskPool: { warm: 0 } }),
      };
      provisioners.push(...Object.values(own));
      const agentDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), "airlock-agent-")));
      const agent = createAgent({
        serverUrl: service.url,
        credentials: opts.credentials ?? fileCredentialStore(join(agentDir, "node-credential")),
        registrationToken,
        dataDir: agentDir,
        provisioners: own,
        actions: createActionLoader({
          actionsUrl: opts.actionsUrl ?? "file:///nonexistent",
          // The node's own cache (the orchestrator's is <dataDir>/actions): it fetches for itself.
          cacheDir: join(agentDir, "actions"),
        }),
        source: createGitWorkspaceSource(),
        // Real sandboxes run on the node's real images (scripts/test.sh builds debian-12 first).
        images: opts.fake ? fixedImages([DEFAULT_IMAGE]) : new ImageStore(loadOptions().imagesDir),
        capacity: { cpus: 4, memoryMb: 8192, diskMb: 16384 },
        ...(opts.labels ? { labels: opts.labels } : {}),
        ...(opts.egress ? { egress: opts.egress } : {}),
        log: pino({ level: "silent" }),
        backoff: { minMs: 50, maxMs: 500 },
      });
      agents.push(agent);
      await agent.start();
      return agent;
    },
    async waitRun(runId, timeoutMs = 60_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const r = await api<RunView>("GET", `/api/v1/runs/${runId}`);
        if (r.status === 200 && r.body.state === "completed") return r.body;
        if (Date.now() > until) throw new Error(`run ${runId} did not complete: ${r.text}`);
        await new Promise((res) => setTimeout(res, 100));
      }
    },
    async stop() {
      for (const a of agents) await a.stop();
      for (const p of provisioners) await p.close?.();
      await service.stop();
      await db.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it returns a value (not undefined), failing after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

/** Registers a repository cloned from `cloneUrl` (a local git repository) through the API; its id. */
export async function addRepository(t: TestService, name: string, cloneUrl: string): Promise<number> {
  const r = await t.api<{ id: number }>("POST", "/api/v1/repositories", { name, cloneUrl });
  assert.equal(r.status, 201, r.text);
  return r.body.id;
}

/** A manual run of the repository's default branch: the ids of the runs it made. */
export async function triggerRuns(t: TestService, repoId: number): Promise<number[]> {
  const r = await t.api<{ runs: Array<{ id: number }> }>("POST", `/api/v1/repositories/${repoId}/runs`, {});
  assert.equal(r.status, 201, r.text);
  return r.body.runs.map((x) => x.id);
}
