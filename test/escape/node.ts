// One node under attack, as an operator would run it: the real orchestrator in-process (its own
// data directory under /var/tmp, like /var/lib/airlock: its embedded PostgreSQL files and its
// repositories' git mirrors) and the real `airlock agent` as a separate process (registered with a
// one-time token read from a 0600 file, its rotating credential in its own folder), offering one provisioner and the `debian-12` image. Beside them,
// things a job must never reach: planted canary files, a TCP listener on the host, a unix socket
// by path and one in the abstract namespace, and another repository's mirror holding a secret.
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import net from "node:net";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { loadOptions } from "../../src/config/index.js";
import { startService, type Service } from "../../src/service/index.js";
import { airlockBin, makeRepo, type TempRepo } from "../helpers/repo.js";
import type { ProvisionerUnderTest } from "./provisioners.js";

/** The flavour every job of the suite gets: small, so that bombs hit it quickly. */
export const FLAVOUR = { cpus: 1, memoryMb: 512, diskMb: 256 } as const;
/** The per-job log cap the orchestrator is configured with. */
export const LOG_CAP_BYTES = 8 * 1024 * 1024;
const API_WAIT_MS = 240_000;

export interface Listener {
  /** Connections accepted so far (each is sent `canary`). */
  accepted(): number;
  close(): Promise<void>;
}

/** What an attacker is assumed to know (passed to the job), and what the test checks. */
export interface Targets {
  agentPid: number;
  /** The node's registration token (used up) and the file holding its current credential. */
  agentToken: string;
  credentialFile: string;
  /** Set in the agent's environment only. */
  agentEnvCanary: string;
  orchestratorDataDir: string;
  /** A world-readable file in the orchestrator's data dir holding `dataCanary`. */
  dataCanaryFile: string;
  dataCanary: string;
  /** The embedded PostgreSQL's superuser password file and its content. */
  pgPasswordFile: string;
  pgPassword: string;
  pgData: string;
  /** The victim repository's mirror (a bare git repository) and the secret committed in it. */
  victimMirror: string;
  victimSecret: string;
  victimCommit: string;
  agentDir: string;
  agentCanaryFile: string;
  agentCanary: string;
  machinesDir: string;
  rootfs: string;
  tcpPort: number;
  tcpCanary: string;
  /** The orchestrator's API port on the host's loopback, and its PostgreSQL's. */
  apiPort: number;
  pgPort: number;
  /** The host's own (non-loopback) address; the TCP listener listens there too. */
  hostAddress: string;
  unixPaths: string[];
  unixCanary: string;
  /** Name of the abstract socket, without the leading NUL. */
  abstractName: string;
  /** A first line of the host's /etc/shadow (never printed; compared only). */
  hostShadowLine: string;
}

export interface EscapeNode {
  prov: ProvisionerUnderTest;
  service: Service;
  targets: Targets;
  listeners: { tcp: Listener; unix: Listener[]; abstract: Listener };
  /** A fresh repository per case. */
  newRepo(files: Record<string, string>): TempRepo;
  api<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T; text: string }>;
  /** Registers a repository in the orchestrator; returns its id and webhook secret. */
  addRepository(name: string, dir: string): Promise<{ id: number; secret: string }>;
  waitRun(runId: number): Promise<RunView>;
  jobLog(jobId: number): Promise<string>;
  agentAlive(): boolean;
  agentLog(): string;
  stop(): Promise<void>;
}

export interface RunView {
  id: number;
  state: string;
  conclusion: string | null;
  jobs: Array<{ id: number; name: string; state: string; conclusion: string | null; attempt: number }>;
}

const hex = (n = 8): string => randomBytes(n).toString("hex");

export async function startEscapeNode(prov: ProvisionerUnderTest, rootfs: string): Promise<EscapeNode> {
  const root = mkdtempSync("/var/tmp/airlock-escape-");
  chmodSync(root, 0o755);
  const dataDir = join(root, "orchestrator");
  const agentDir = join(root, "agent");
  const machinesDir = join(root, "machines");
  for (const d of [dataDir, agentDir]) mkdirSync(d, { recursive: true, mode: 0o755 });
  const repos: TempRepo[] = [];
  const cleanups: Array<() => Promise<void> | void> = [() => rmSync(root, { recursive: true, force: true })];
  const stopAll = async (): Promise<void> => {
    for (const c of cleanups.reverse()) {
      if (process.env.AIRLOCK_ESCAPE_DEBUG)
        console.error(`escape node: stopping ${c.toString().slice(0, 80)}`);
      await c();
    }
    cleanups.length = 0;
  };
  try {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
      HOME: join(root, "home"),
      AIRLOCK_HOME: join(root, "home"),
      AIRLOCK_DATA_DIR: dataDir,
      AIRLOCK_LOG_LEVEL: "silent",
    };
    // No database URL: the orchestrator runs its own embedded PostgreSQL in its data directory.
    let t0 = Date.now();
    const phase = (what: string) => {
      if (process.env.AIRLOCK_ESCAPE_DEBUG) console.error(`escape node: ${what} in ${Date.now() - t0} ms`);
      t0 = Date.now();
    };
    const service = await startService({
      env,
      overrides: { listenPort: 0, leaseMs: 10_000, heartbeatMs: 2_000, logCapBytes: LOG_CAP_BYTES },
      cliConfigPath: null,
    });
    cleanups.push(() => service.stop());
    phase("orchestrator started");
    const token = service.adminToken;
    if (!token) throw new Error("a fresh orchestrator must create an admin token");
    const api: EscapeNode["api"] = async (method, path, body) => {
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
    await service.db.pool.query(`UPDATE images SET provisioner = $1 WHERE name = 'debian-12'`, [prov.name]);
    await service.db.pool.query(`UPDATE flavours SET cpus = $1, memory_mb = $2, disk_mb = $3`, [
      FLAVOUR.cpus,
      FLAVOUR.memoryMb,
      FLAVOUR.diskMb,
    ]);

    // Things a job must never reach.
    const dataCanary = `DATA-CANARY-${hex()}`;
    const dataCanaryFile = join(dataDir, "orchestrator.log");
    writeFileSync(dataCanaryFile, `level=info msg="service started" canary=${dataCanary}\n`, { mode: 0o644 });
    const agentCanary = `AGENT-CANARY-${hex()}`;
    const agentCanaryFile = join(agentDir, "node-notes.txt");
    writeFileSync(agentCanaryFile, `${agentCanary}\n`, { mode: 0o644 });
    const tcpCanary = `TCP-CANARY-${hex()}`;
    const tcp = await listen((s) => s.listen(0, "0.0.0.0"), tcpCanary);
    cleanups.push(() => tcp.close());
    const unixCanary = `UNIX-CANARY-${hex()}`;
    const unixPaths = [join(root, "host.sock"), `/run/airlock-escape-${hex(4)}.sock`];
    const unix: Listener[] = [];
    for (const p of unixPaths) {
      const l = await listen((s) => s.listen(p), unixCanary);
      chmodSync(p, 0o777);
      unix.push(l);
      cleanups.push(async () => {
        await l.close();
        rmSync(p, { force: true });
      });
    }
    const abstractName = `airlock-escape-${hex(6)}`;
    const abstract = await listen((s) => s.listen(`\0${abstractName}`), unixCanary);
    cleanups.push(() => abstract.close());

    // The agent: a separate process, as on a real node.
    const node = await api<{ token: string }>("POST", "/api/v1/nodes/registrations", {
      name: `escape-${prov.name}`,
    });
    if (node.status !== 201) throw new Error(`nodes register-token: ${node.status} ${node.text}`);
    const tokenFile = join(root, "registration-token");
    writeFileSync(tokenFile, `${node.body.token}\n`, { mode: 0o600 });
    const agentEnvCanary = `AGENT-ENV-CANARY-${hex()}`;
    const agentLogFile = join(root, "agent.log");
    const agent = spawnAgent({
      server: service.url,
      tokenFile,
      agentDir,
      machinesDir,
      provisioner: prov.name,
      env: { ...env, AIRLOCK_ESCAPE_CANARY: agentEnvCanary },
      logFile: agentLogFile,
    });
    const agentExited = new Promise<void>((res) => agent.once("exit", () => res()));
    cleanups.push(async () => {
      agent.kill("SIGTERM");
      await agentExited;
    });
    await until(async () => {
      if (agent.exitCode !== null) throw new Error(`agent exited: ${readFileSync(agentLogFile, "utf8")}`);
      const r = await api<Array<{ name: string; connected: boolean }>>("GET", "/api/v1/nodes");
      return r.body.some((n) => n.connected) || undefined;
    }, "the agent to connect");
    phase("agent connected");

    const n: EscapeNode = {
      prov,
      service,
      listeners: { tcp, unix, abstract },
      targets: undefined as unknown as Targets,
      newRepo(files) {
        const r = makeRepo(files);
        repos.push(r);
        return r;
      },
      api,
      async addRepository(name, dir) {
        const r = await api<{ id: number; webhookSecret: string }>("POST", "/api/v1/repositories", {
          name,
          cloneUrl: dir,
        });
        if (r.status !== 201) throw new Error(`repositories add: ${r.status} ${r.text}`);
        return { id: r.body.id, secret: r.body.webhookSecret };
      },
      async waitRun(runId) {
        return until(async () => {
          const r = await api<RunView>("GET", `/api/v1/runs/${runId}`);
          return r.status === 200 && r.body.state === "completed" ? r.body : undefined;
        }, `run ${runId} to complete`);
      },
      async jobLog(jobId) {
        return (await api("GET", `/api/v1/jobs/${jobId}/logs`)).text;
      },
      agentAlive: () => agent.exitCode === null && agent.signalCode === null,
      agentLog: () => readFileSync(agentLogFile, "utf8"),
      stop: async () => {
        for (const r of repos) r.remove();
        await stopAll();
      },
    };

    // Another repository, run once so that the orchestrator mirrors it: its secret must stay there.
    const victimSecret = `VICTIM-SECRET-${hex()}`;
    const victim = n.newRepo({
      "secret.txt": `${victimSecret}\n`,
      ".github/workflows/ci.yml":
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: true\n",
    });
    const v = await n.addRepository("victim/app", victim.dir);
    const trig = await api<{ runs: Array<{ id: number; commit: string }> }>(
      "POST",
      `/api/v1/repositories/${v.id}/runs`,
      {},
    );
    const victimRun = trig.body.runs[0];
    if (trig.status !== 201 || !victimRun) throw new Error(`victim run: ${trig.status} ${trig.text}`);
    const vr = await n.waitRun(victimRun.id);
    if (vr.conclusion !== "success") {
      throw new Error(`the victim's own run must succeed first: ${JSON.stringify(vr)}\n${n.agentLog()}`);
    }
    phase("victim run");
    const mirrors = join(dataDir, "mirrors");
    // src/sources/mirror.ts names a mirror after its clone URL.
    const victimMirror = join(
      mirrors,
      `${createHash("sha256").update(victim.dir).digest("hex").slice(0, 32)}.git`,
    );
    if (!existsSync(join(victimMirror, "HEAD"))) {
      throw new Error(`no mirror of ${victim.dir} in ${mirrors}: ${readdirSync(mirrors).join(", ")}`);
    }

    const pgBase = join(dataDir, "postgres");
    const pgPasswordFile = join(pgBase, "password");
    n.targets = {
      agentPid: agent.pid ?? -1,
      agentToken: node.body.token,
      credentialFile: join(agentDir, "node-credential"),
      agentEnvCanary,
      orchestratorDataDir: dataDir,
      dataCanaryFile,
      dataCanary,
      pgPasswordFile,
      pgPassword: readFileSync(pgPasswordFile, "utf8").trim(),
      pgData: join(pgBase, "data"),
      victimMirror,
      victimSecret,
      victimCommit: victimRun.commit,
      agentDir,
      agentCanaryFile,
      agentCanary,
      machinesDir,
      rootfs,
      tcpPort: tcp.port,
      tcpCanary,
      apiPort: Number(new URL(service.url).port),
      pgPort: Number(new URL(service.db.url).port),
      hostAddress:
        Object.values(networkInterfaces())
          .flat()
          .find((a) => a && a.family === "IPv4" && !a.internal)?.address ?? "127.0.0.2",
      unixPaths,
      unixCanary,
      abstractName,
      hostShadowLine: readFileSync("/etc/shadow", "utf8").split("\n")[0] ?? "",
    };
    return n;
  } catch (err) {
    for (const r of repos) r.remove();
    await stopAll();
    throw err;
  }
}

function spawnAgent(o: {
  server: string;
  tokenFile: string;
  agentDir: string;
  machinesDir: string;
  provisioner: string;
  env: NodeJS.ProcessEnv;
  logFile: string;
}): ChildProcess {
  const out = openSync(o.logFile, "a");
  return spawn(
    process.execPath,
    [
      airlockBin,
      "agent",
      "--server",
      o.server,
      "--data-dir",
      o.agentDir,
      "--registration-token-file",
      o.tokenFile,
      "--provisioner",
      o.provisioner,
      "--cpus",
      "8",
      "--memory-mb",
      "8192",
      "--disk-mb",
      "16384",
    ],
    {
      env: {
        ...o.env,
        AIRLOCK_MACHINES_DIR: o.machinesDir,
        AIRLOCK_IMAGES_DIR: loadOptions().imagesDir,
      },
      stdio: ["ignore", out, out],
    },
  );
}

async function listen(start: (s: net.Server) => void, canary: string): Promise<Listener & { port: number }> {
  let accepted = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    accepted++;
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => undefined);
    s.end(`${canary}\n`);
  });
  await new Promise<void>((res, rej) => {
    server.once("error", rej);
    server.once("listening", () => res());
    start(server);
  });
  const addr = server.address();
  return {
    port: typeof addr === "object" && addr ? addr.port : 0,
    accepted: () => accepted,
    close: () =>
      new Promise<void>((res) => {
        for (const s of sockets) s.destroy();
        server.close(() => res());
      }),
  };
}

/** Polls `check` until it returns a value; fails (never passes) when it takes unreasonably long. */
export async function until<T>(
  check: () => Promise<T | undefined>,
  what: string,
  ms = API_WAIT_MS,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}
