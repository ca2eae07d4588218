// The node agent: dials out to the orchestrator, registers the node (hello), heartbeats, runs each
// assigned job attempt on a fresh machine, and delivers the jobs' output through the on-disk outbox,
// in order and without gaps, across disconnects, orchestrator restarts and agent restarts.
// The protocol it speaks is src/protocol/agent.ts. Its node credential comes from its store (or, on
// the first start, from exchanging a registration token) and is replaced on every connection.
import { mkdir } from "node:fs/promises";
import type { NodeEgress } from "../egress/index.js";
import type { ContainerPolicy } from "../containers/index.js";
import type { Provisioner } from "../provisioners/types.js";
import { PROTOCOL_VERSION, type AgentMessage, type ServerMessage } from "../protocol/agent.js";
import type { ActionLoader, WorkspaceSource } from "../runner/index.js";
import { detectCapacity, type Capacity } from "./capacity.js";
import { Connection } from "./connection.js";
import type { ConnectCause } from "./connect-cause.js";
import type { CredentialStore } from "./credentials.js";
import { exchangeRegistrationToken } from "./register.js";
import type { NodeImages } from "./images.js";
import { AgentJob, type AssignMsg, type NodeLimits } from "./job.js";
import { silentLogger, type AgentLogger } from "./logger.js";
import { Outbox } from "./outbox.js";
import { outboxKey } from "./outbox-file.js";
import { agentVersion } from "./version.js";
import { AirlockError, ErrorCode } from "../errors/index.js";

export interface AgentOptions {
  /** The orchestrator's address: http(s)://host[:port][/prefix] (ws(s):// accepted too). */
  serverUrl: string;
  /** Where the node credential is kept (src/agent/credentials.ts); it is replaced on every connection. */
  credentials: CredentialStore;
  /**
   * A one-time registration token, exchanged for the first credential when the store holds none.
   * Ignored once the store holds one.
   */
  registrationToken?: string;
  /** The agent's own folder (the outbox lives in dataDir/outbox). */
  dataDir: string;
  /** By name, as orchestrator `assign.machine.provisioner` refers to them. */
  provisioners: Record<string, Provisioner>;
  actions: ActionLoader;
  source: WorkspaceSource;
  /** Defaults: CPUs and memory of the host, free disk space of dataDir. */
  capacity?: Capacity;
  /** Labels to report in hello: a claim the server ignores unless an administrator gave them. */
  labels?: string[];
  /**
   * The node's images (src/images ImageStore): their names go in `hello`, and each assigned job's
   * image is resolved here to a local rootfs. A job whose image is not here is rejected.
   */
  images: NodeImages;
  /** Bound of the unacked output of all jobs; default 64 MiB. */
  outboxMaxBytes?: number;
  log?: AgentLogger;
  /** Limits of every machine beside the flavour's CPU, memory and disk (see NodeLimits). */
  limits?: NodeLimits;
  /**
   * The pool's egress: its allow-list and the proxy that enforces it (with each assignment's
   * repository list added). Absent: machines never have a network, whatever the assignment says.
   */
  egress?: NodeEgress;
  /**
   * The pool's policy on workflow containers (`container:`, `services:`): options it allows beyond
   * the default allow-list (src/containers/options.ts). Absent: the default.
   */
  containers?: ContainerPolicy;
  /**
   * Called once when connecting cannot succeed by retrying (the credential refused, no agent
   * endpoint at serverUrl, another protocol version); the agent has stopped connecting and its
   * owner should stop() it. Absent: such causes are retried every backoff.unauthorizedMs.
   */
  onFinal?: (cause: ConnectCause) => void;
  /** Reconnect backoff; defaults 100 ms → 10 s, and 60 s while the credential is refused. */
  backoff?: { minMs?: number; maxMs?: number; unauthorizedMs?: number };
}

export interface JobAttemptRef {
  jobId: number;
  attempt: number;
}

export interface AgentStatus {
  /** A connection is open and the orchestrator has welcomed it. */
  connected: boolean;
  nodeId: number | undefined;
  /** The orchestrator refused the credential on the last attempt. */
  unauthorized: boolean;
  /** Credentials received and saved since start (each connection brings one). */
  credentialsSaved: number;
  connectAttempts: number;
  outboxBytes: number;
}

export interface Agent {
  /**
   * Connects and keeps connecting until stop(). Idempotent. On a first start (no saved credential)
   * it registers first; it rejects when there is no credential and no registration token, or the
   * token is refused.
   */
  start(): Promise<void>;
  /** Destroys every machine, closes the socket, clears timers; resolves when nothing is left. Idempotent. */
  stop(): Promise<void>;
  /**
   * Graceful stop: takes no new jobs (tells the orchestrator, rejects any assign), lets the running
   * ones finish and waits until their output and results are acknowledged, then stop(). A stop()
   * meanwhile ends it at once (running jobs ended as by stop()). Idempotent.
   */
  drain(): Promise<void>;
  runningJobs(): JobAttemptRef[];
  status(): AgentStatus;
}

/** `ws(s)://…/api/v1/agent` from the orchestrator's http(s) address. */
export function agentEndpoint(serverUrl: string): string {
  const url = new URL(serverUrl);
  if (url.protocol === "http:") url.protocol = "ws:";
  else if (url.protocol === "https:") url.protocol = "wss:";
  url.pathname = `${url.pathname.replace(/\/+$/, "")}/api/v1/agent`;
  url.search = "";
  url.hash = "";
  return url.toString();
}

const RECENT_LIMIT = 1000;
const SOCKET_HIGH_WATER = 256 * 1024;
/** The log cap when the orchestrator does not send one (its own default). */
const DEFAULT_LOG_CAP = 50 * 1024 * 1024;

export function createAgent(opts: AgentOptions): Agent {
  const log = opts.log ?? silentLogger;
  const jobs = new Map<string, AgentJob>();
  /** Job attempts finished on this agent recently: a late duplicate `assign` is ignored. */
  const recent = new Set<string>();
  const outbox = new Outbox({
    dataDir: opts.dataDir,
    maxBytes: opts.outboxMaxBytes ?? 64 * 1024 * 1024,
    isRunning: (key) => jobs.has(key),
    // Job output waits while the socket holds a lot: heartbeats and other control messages, sent
    // directly, are never queued behind more than this (and the outbox's window).
    writable: () => conn.bufferedAmount < SOCKET_HIGH_WATER,
  });
  let capacity: Capacity | undefined = opts.capacity;
  /** Each provisioner's line on how it isolates here (asked once, before the first hello). */
  const provisionerInfo: Record<string, string> = {};
  let heartbeat: NodeJS.Timeout | undefined;
  /** The image names last reported (hello or images), as JSON. */
  let reportedImages = "";
  /** Reports the store's image names when they changed since the last report. */
  function reportImages(): void {
    let images: string[];
    try {
      images = opts.images.names();
    } catch (err) {
      log.warn({ err }, "cannot list the node's images");
      return;
    }
    const key = JSON.stringify(images);
    if (key === reportedImages) return;
    reportedImages = key;
    send({ type: "images", images });
  }
  let welcomed = false;
  let nodeId: number | undefined;
  let starting: Promise<void> | undefined;
  let stopping: Promise<void> | undefined;
  let draining: Promise<void> | undefined;
  /** drain() was asked: no new jobs, and the orchestrator is told so in every heartbeat. */
  let drainAsked = false;
  const heartbeatMsg = (): AgentMessage => ({
    type: "heartbeat",
    running: running(),
    ...(drainAsked ? { draining: true } : {}),
  });

  const send = (msg: AgentMessage): boolean => conn.send(JSON.stringify(msg));
  const running = (): JobAttemptRef[] =>
    [...jobs.values()].map((j) => ({ jobId: j.jobId, attempt: j.attempt }));

  /** The credential to connect with: the saved one (updated only once a new one is saved). */
  let credential: string | undefined;
  /** Saves of received credentials, one after another; a dial waits for the one under way. */
  let saving: Promise<void> = Promise.resolve();
  let credentialsSaved = 0;
  const stopSignal = new AbortController();

  /** A new credential from the orchestrator: saved, then used, then acknowledged on its connection. */
  function newCredential(next: string): void {
    const connection = conn.attempts;
    saving = saving.then(async () => {
      try {
        await opts.credentials.save(next);
      } catch (err) {
        // The old credential stays valid until this one is acknowledged: keep using it.
        log.error(
          { err, where: opts.credentials.where },
          "cannot save the new node credential; keeping the old one",
        );
        return;
      }
      credential = next;
      credentialsSaved++;
      // Only on the connection that brought it; after a reconnect, connecting with it did the job.
      if (conn.attempts === connection) send({ type: "credential-saved" });
    });
  }

  const conn = new Connection({
    url: agentEndpoint(opts.serverUrl),
    credential: async () => {
      await saving;
      if (credential === undefined) throw new Error("no node credential");
      return credential;
    },
    log,
    minBackoffMs: opts.backoff?.minMs ?? 100,
    maxBackoffMs: opts.backoff?.maxMs ?? 10_000,
    unauthorizedRetryMs: opts.backoff?.unauthorizedMs ?? 60_000,
    onOpen() {
      const c = capacity!;
      const images = opts.images.names();
      reportedImages = JSON.stringify(images);
      send({
        type: "hello",
        protocol: PROTOCOL_VERSION,
        agentVersion: agentVersion(),
        node: {
          labels: opts.labels ?? [],
          cpus: c.cpus,
          memoryMb: c.memoryMb,
          diskMb: c.diskMb,
          provisioners: Object.keys(opts.provisioners),
          provisionerInfo,
          images,
        },
        running: running(),
      });
    },
    onMessage: (msg) => handle(msg),
    ...(opts.onFinal ? { onFinal: opts.onFinal } : {}),
    onClose() {
      welcomed = false;
      outbox.disconnected();
      if (heartbeat) clearInterval(heartbeat);
      heartbeat = undefined;
    },
  });

  /** A frame left for the socket: when the socket was what held output back, send more. */
  let flushQueued = false;
  function drained(): void {
    if (flushQueued) return;
    flushQueued = true;
    setImmediate(() => {
      flushQueued = false;
      outbox.flush();
    });
  }

  function handle(msg: ServerMessage): void {
    switch (msg.type) {
      case "credential":
        return newCredential(msg.credential);
      case "welcome": {
        for (const a of msg.abandon) {
          jobs.get(outboxKey(a.jobId, a.attempt))?.end("abandon");
          outbox.drop(a.jobId, a.attempt);
        }
        const stored = new Map(msg.stored.map((s) => [outboxKey(s.jobId, s.attempt), s.seq]));
        welcomed = true;
        nodeId = msg.nodeId;
        conn.healthy();
        log.info({ nodeId: msg.nodeId, nodeName: msg.nodeName }, "connected to the orchestrator");
        // `accepted` is idempotent: repeat it for every running attempt, in case the connection
        // that carried the assign died before the first one got through.
        for (const ref of running()) send({ type: "accepted", ...ref });
        outbox.connected((line) => conn.send(line, drained), stored);
        if (heartbeat) clearInterval(heartbeat);
        heartbeat = setInterval(() => {
          send(heartbeatMsg());
          reportImages();
        }, msg.heartbeatMs);
        // Still stopping after a reconnect: this connection must place nothing here either.
        if (drainAsked) send(heartbeatMsg());
        return;
      }
      case "assign":
        return assign(msg);
      case "cancel":
        jobs.get(outboxKey(msg.jobId, msg.attempt))?.end("cancel");
        return;
      case "acks":
        for (const a of msg.acks) outbox.ack(a.jobId, a.attempt, a.seq);
        return;
    }
  }

  function assign(a: AssignMsg): void {
    const key = outboxKey(a.jobId, a.attempt);
    if (jobs.has(key) || recent.has(key) || outbox.isFinished(a.jobId, a.attempt)) return;
    const ref = { jobId: a.jobId, attempt: a.attempt };
    const provisioner = opts.provisioners[a.machine.provisioner];
    if (stopping || drainAsked || !provisioner) {
      const reason =
        stopping || drainAsked
          ? "agent is shutting down"
          : `no provisioner "${a.machine.provisioner}" on this node`;
      send({ type: "rejected", ...ref, reason });
      return;
    }
    // The node resolves the image itself: a job never runs on the host's root filesystem.
    let image: { rootfs: string; release(): void };
    try {
      image = opts.images.acquire(a.machine.image);
    } catch (err) {
      const reason = `image "${a.machine.image}" is not on this node: ${err instanceof Error ? err.message : String(err)}`;
      log.warn({ ...ref, image: a.machine.image }, reason);
      // First the node's true image list, so the job is not placed here again.
      reportImages();
      send({ type: "rejected", ...ref, reason });
      return;
    }
    send({ type: "accepted", ...ref });
    log.info({ ...ref, provisioner: a.machine.provisioner }, "job accepted");
    // A leftover outbox of this very attempt (earlier agent process) continues its seqs.
    const job = new AgentJob(a, {
      provisioner,
      rootfs: image.rootfs,
      actions: opts.actions,
      source: opts.source,
      log,
      ...(opts.limits ? { limits: opts.limits } : {}),
      ...(opts.egress ? { egress: opts.egress } : {}),
      ...(opts.containers ? { containers: opts.containers } : {}),
      push: (payload) => outbox.push(a.jobId, a.attempt, payload),
      flow: {
        blocked: () => outbox.blocked(a.jobId, a.attempt),
        whenUnblocked: () => outbox.whenUnblocked(a.jobId, a.attempt),
      },
      logCapBytes: a.logCapBytes ?? DEFAULT_LOG_CAP,
      serverUrl: opts.serverUrl,
      nodeCredential: () => credential,
    });
    jobs.set(key, job);
    void job.done.then(() => {
      image.release();
      jobs.delete(key);
      recent.add(key);
      if (recent.size > RECENT_LIMIT) recent.delete(recent.values().next().value!);
    });
  }

  /** The first start: the registration token for the node's first credential, saved before use. */
  async function register(): Promise<string> {
    if (!opts.registrationToken)
      throw new AirlockError(
        ErrorCode.USAGE,
        `no node credential in ${opts.credentials.where}, and no registration token to get one (--registration-token-file or AIRLOCK_REGISTRATION_TOKEN)`,
      );
    const done = await exchangeRegistrationToken(opts.serverUrl, opts.registrationToken, {
      signal: stopSignal.signal,
      log,
      minBackoffMs: opts.backoff?.minMs ?? 100,
      maxBackoffMs: opts.backoff?.maxMs ?? 10_000,
    });
    await opts.credentials.save(done.credential);
    log.info(
      { nodeId: done.nodeId, nodeName: done.nodeName, credentialFile: opts.credentials.where },
      "node registered; the registration token is used up and may be deleted",
    );
    return done.credential;
  }

  const self: Agent = {
    start() {
      if (stopping) return Promise.resolve();
      starting ??= (async () => {
        // 0700 when made here: it holds the node credential and the jobs' undelivered output.
        await mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
        credential = await opts.credentials.load();
        if (credential === undefined) credential = await register();
        capacity ??= await detectCapacity(opts.dataDir);
        for (const [name, p] of Object.entries(opts.provisioners)) {
          const line = await p.describe?.().catch((e: unknown) => `unavailable: ${(e as Error).message}`);
          if (line !== undefined) {
            provisionerInfo[name] = line;
            log.info({ provisioner: name }, line);
          }
        }
        const leftovers = outbox.loadLeftovers();
        if (leftovers.length > 0) log.info({ jobs: leftovers }, "resending output left by an earlier agent");
        if (!stopping) conn.start();
      })();
      return starting;
    },
    stop() {
      stopping ??= (async () => {
        stopSignal.abort();
        await starting?.catch(() => undefined);
        for (const j of jobs.values()) j.end("stop");
        await Promise.all([...jobs.values()].map((j) => j.done));
        await conn.stop();
        await opts.egress?.proxy.close();
        if (heartbeat) clearInterval(heartbeat);
        heartbeat = undefined;
        await saving;
        outbox.close();
      })();
      return stopping;
    },
    drain() {
      if (stopping) return stopping;
      drainAsked = true;
      draining ??= (async () => {
        log.info(
          { running: running() },
          "stopping: running jobs finish and their results are delivered; no new jobs are taken",
        );
        if (welcomed) send(heartbeatMsg());
        const stopAsked = new Promise<void>((resolve) =>
          stopSignal.signal.aborted
            ? resolve()
            : stopSignal.signal.addEventListener("abort", () => resolve()),
        );
        const finished = (async () => {
          await Promise.all([...jobs.values()].map((j) => j.done));
          await outbox.whenEmpty();
        })();
        await Promise.race([finished, stopAsked]);
        await self.stop();
      })();
      return draining;
    },
    runningJobs: running,
    status: () => ({
      connected: welcomed && conn.open,
      nodeId,
      unauthorized: conn.unauthorized,
      connectAttempts: conn.attempts,
      credentialsSaved,
      outboxBytes: outbox.totalBytes(),
    }),
  };
  return self;
}
