// The orchestrator's side of the agent protocol (src/protocol/agent.ts): one connection per node,
// messages handled strictly in order per connection, acknowledgements batched — except heartbeats,
// which renew leases at once instead of waiting behind the events queued before them. Job output is
// accepted only for job attempts assigned to the sending node, and what a job wrote is cleaned
// (NUL, lone surrogates) and masked a second time with the job's secrets (log-masking.ts) before it
// reaches the database; each stored chunk says whether Airlock or the job wrote it (its source).
// Every accepted connection first rotates the node's credential (./node-auth): nothing else of
// the connection is handled before that.
import type pg from "pg";
import type { Logger } from "pino";
import type { WebSocket } from "ws";
import type { Histogram } from "prom-client";
import {
  acceptJobTimed,
  appendLog,
  appendLogs,
  completeJob,
  lastStoredSeq,
  logTime,
  markLogTruncated,
  recordStep,
  rejectJobTo,
  renewLeases,
  storeSummaries,
  type JobRef,
  type Queryable,
} from "../queue/index.js";
import { boundedSummaries, cleanDeep, eventSource, eventStyle, eventText } from "../runner/index.js";
import type { JobResult, RunnerEvent } from "../runner/types.js";
import { AgentMessage, CloseCode, PROTOCOL_VERSION, type ServerMessage } from "../protocol/agent.js";
import type { CoreConfig } from "./config.js";
import { beginRotation, confirmRotation } from "./node-auth/index.js";
import type { MemoryLogHub } from "./log-hub.js";
import { JobMaskers, maskDeep, maskResult, secretsFromDescription } from "./log-masking.js";
import type { Kms } from "../secrets/index.js";
import { appendAudit } from "../audit/index.js";
import type { JobSignals } from "./queue-executor.js";
import type { AgentHub } from "./types.js";

export interface AgentHubDeps {
  pool: pg.Pool;
  config: CoreConfig;
  logger: Logger;
  logs: MemoryLogHub;
  signals: JobSignals;
  wakeDispatcher(): void;
  dispatchLatency?: Histogram;
  /** Opens sealed job secrets for the orchestrator's masking pass. */
  kms?: Kms;
  /**
   * After an agent completed a job: work of other domains that follows (independent rebuilds:
   * queue a job's replicas, judge a replica's build), awaited before the job's waiters hear of it;
   * errors are logged. Resolves true when it queued jobs (the dispatcher is woken after it anyway).
   */
  jobCompleted?: (jobId: number) => Promise<boolean>;
}

const refKey = (jobId: number, attempt: number): string => `${jobId}:${attempt}`;

type EventMsg = Extract<AgentMessage, { type: "event" }>;
/** Most events stored in one transaction (one commit instead of one per log line). */
const MAX_BATCH = 512;

function parseMessage(text: string): AgentMessage | Error {
  try {
    return AgentMessage.parse(JSON.parse(text));
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

class Connection {
  /** Job attempts this node may report on. */
  readonly allowed = new Set<string>();
  /** The agent said it is stopping (heartbeat `draining`): no new job is placed on this connection. */
  draining = false;
  private chain: Promise<void> = Promise.resolve();
  private pendingAcks = new Map<string, { jobId: number; attempt: number; seq: number; finished: boolean }>();
  private ackScheduled = false;
  /** Events received back to back, not yet handled: stored together, in one transaction. */
  openBatch: EventMsg[] | undefined;
  /** Digest of the credential sent on this connection and not yet confirmed saved. */
  pendingHash: string | undefined;
  /** The node was revoked while this connection was being accepted: nothing of it is handled. */
  refused = false;

  constructor(
    readonly nodeId: number,
    readonly socket: WebSocket,
  ) {}

  send(msg: ServerMessage): boolean {
    if (this.socket.readyState !== this.socket.OPEN) return false;
    this.socket.send(JSON.stringify(msg));
    return true;
  }

  /** Runs handlers one after another, in arrival order. */
  enqueue(fn: () => Promise<void>): void {
    this.chain = this.chain.then(fn, fn);
  }

  /** Resolves once everything queued so far is handled. */
  drained(): Promise<void> {
    return this.chain;
  }

  ack(jobId: number, attempt: number, seq: number, finished: boolean): void {
    const k = refKey(jobId, attempt);
    const prev = this.pendingAcks.get(k);
    if (!prev || prev.seq < seq || finished) {
      this.pendingAcks.set(k, {
        jobId,
        attempt,
        seq: Math.max(seq, prev?.seq ?? 0),
        finished: finished || !!prev?.finished,
      });
    }
    if (!this.ackScheduled) {
      this.ackScheduled = true;
      // Flushed once the messages already received are handled: one acks message per burst.
      this.enqueue(() => {
        this.ackScheduled = false;
        const acks = [...this.pendingAcks.values()];
        this.pendingAcks.clear();
        if (acks.length > 0) this.send({ type: "acks", acks });
        return Promise.resolve();
      });
    }
  }
}

export class WsAgentHub implements AgentHub {
  private readonly conns = new Map<number, Connection>();
  /** Each node's latest connection, open or closing: a newer one waits for what it still has queued. */
  private readonly latest = new Map<number, Connection>();
  private readonly maskers: JobMaskers;

  constructor(private readonly d: AgentHubDeps) {
    this.maskers = new JobMaskers(secretsFromDescription(d.kms));
  }

  connectedNodes(): number {
    return this.conns.size;
  }

  isConnected(nodeId: number): boolean {
    return this.conns.has(nodeId);
  }

  /** The node's agent is stopping (it said so): connected, finishing its jobs, taking no new ones. */
  isDraining(nodeId: number): boolean {
    return this.conns.get(nodeId)?.draining === true;
  }

  accept(socket: WebSocket, nodeId: number): void {
    const old = this.conns.get(nodeId);
    if (old) old.socket.close(CloseCode.replaced, "replaced by a new connection");
    const conn = new Connection(nodeId, socket);
    this.conns.set(nodeId, conn);
    // The previous connection's queue (its last events, its "not connected" write) comes first,
    // so that write can never land after this connection's hello.
    const previous = this.latest.get(nodeId);
    this.latest.set(nodeId, conn);
    if (previous) conn.enqueue(() => previous.drained());
    // Then the rotation: this connection's hello and everything after wait for it.
    conn.enqueue(() => this.rotate(conn));
    socket.on("message", (data: Buffer) => {
      const msg = parseMessage(data.toString("utf8"));
      // Heartbeats are idempotent, and renewing a lease never depends on the events before it.
      if (!(msg instanceof Error) && msg.type === "heartbeat") void this.handle(conn, msg);
      else if (!(msg instanceof Error) && msg.type === "event") {
        let batch = conn.openBatch;
        if (!batch) {
          const b: EventMsg[] = [];
          conn.openBatch = batch = b;
          conn.enqueue(() => {
            if (conn.openBatch === b) conn.openBatch = undefined;
            return this.storeBatch(conn, b);
          });
        }
        batch.push(msg);
        if (batch.length >= MAX_BATCH) conn.openBatch = undefined;
      } else {
        conn.openBatch = undefined;
        conn.enqueue(() => this.handle(conn, msg));
      }
    });
    socket.on("close", () => {
      if (this.conns.get(nodeId) !== conn) return;
      this.conns.delete(nodeId);
      conn.enqueue(async () => {
        if (!this.conns.has(nodeId))
          await this.d.pool
            .query(`UPDATE nodes SET connected = false WHERE id = $1`, [nodeId])
            .catch(() => undefined);
        if (this.latest.get(nodeId) === conn) this.latest.delete(nodeId);
      });
    });
    socket.on("error", () => undefined);
  }

  /** Sends a job attempt to its node; false when the node is not connected. */
  assign(nodeId: number, msg: Extract<ServerMessage, { type: "assign" }>): boolean {
    const conn = this.conns.get(nodeId);
    if (!conn) return false;
    conn.allowed.add(refKey(msg.jobId, msg.attempt));
    return conn.send(msg);
  }

  cancel(nodeId: number, jobId: number, attempt: number): boolean {
    return this.conns.get(nodeId)?.send({ type: "cancel", jobId, attempt }) ?? false;
  }

  disconnect(nodeId: number, reason = "node deleted"): void {
    const conn = this.conns.get(nodeId);
    if (!conn) return;
    this.conns.delete(nodeId);
    if (this.latest.get(nodeId) === conn) this.latest.delete(nodeId);
    conn.socket.close(CloseCode.unauthorized, reason);
  }

  /** Sends the node its next credential; closes the connection when the node was revoked meanwhile. */
  private async rotate(conn: Connection): Promise<void> {
    let next: Awaited<ReturnType<typeof beginRotation>>;
    try {
      next = await beginRotation(this.d.pool, conn.nodeId);
    } catch (err) {
      // Not the node's fault (the database): it reconnects with backoff, its credential unchanged.
      this.d.logger.error({ nodeId: conn.nodeId, err }, "credential rotation failed");
      conn.refused = true;
      conn.socket.close(CloseCode.goingAway, "cannot rotate the credential now");
      return;
    }
    if (next) {
      conn.pendingHash = next.pendingHash;
      conn.send({ type: "credential", credential: next.credential });
      return;
    }
    conn.refused = true;
    if (this.conns.get(conn.nodeId) === conn) this.conns.delete(conn.nodeId);
    conn.socket.close(CloseCode.unauthorized, "node revoked");
  }

  /** Closes every connection (shutdown): agents reconnect with backoff. */
  closeAll(): void {
    for (const c of this.conns.values()) c.socket.close(CloseCode.goingAway, "orchestrator shutting down");
    this.conns.clear();
  }

  private async handle(conn: Connection, msg: AgentMessage | Error): Promise<void> {
    if (conn.refused) return;
    if (msg instanceof Error) {
      this.d.logger.warn({ nodeId: conn.nodeId, err: msg }, "bad agent message");
      conn.socket.close(CloseCode.badMessage, "bad message");
      return;
    }
    try {
      await this.dispatchMessage(conn, msg);
    } catch (err) {
      this.d.logger.error({ nodeId: conn.nodeId, err, type: msg.type }, "agent message failed");
    }
  }

  private async dispatchMessage(conn: Connection, msg: AgentMessage): Promise<void> {
    const { pool, config } = this.d;
    switch (msg.type) {
      case "hello":
        return this.hello(conn, msg);
      case "credential-saved": {
        const hash = conn.pendingHash;
        conn.pendingHash = undefined;
        if (hash !== undefined) await confirmRotation(pool, conn.nodeId, hash);
        return;
      }
      case "images":
        await pool.query(`UPDATE nodes SET images = $2 WHERE id = $1`, [conn.nodeId, msg.images]);
        this.d.wakeDispatcher();
        return;
      case "heartbeat":
        // Stopping gracefully: nothing more is placed on this connection (a new one starts afresh).
        if (msg.draining === true && !conn.draining) {
          conn.draining = true;
          this.d.logger.info({ nodeId: conn.nodeId }, "node agent is stopping: no new jobs placed on it");
        }
        await renewLeases(pool, conn.nodeId, msg.running, config.leaseMs);
        await pool.query(`UPDATE nodes SET last_seen_at = now() WHERE id = $1`, [conn.nodeId]);
        return;
      case "accepted": {
        if (!conn.allowed.has(refKey(msg.jobId, msg.attempt))) return;
        const accepted = await acceptJobTimed(pool, msg.jobId, msg.attempt, config.leaseMs);
        if (accepted === undefined) return;
        this.d.dispatchLatency?.observe(accepted.waited);
        // A cancel sent before the assignment reached the agent was ignored there: send it again.
        if (accepted.cancelRequested) conn.send({ type: "cancel", jobId: msg.jobId, attempt: msg.attempt });
        return;
      }
      case "rejected": {
        if (!conn.allowed.has(refKey(msg.jobId, msg.attempt))) return;
        conn.allowed.delete(refKey(msg.jobId, msg.attempt));
        this.maskers.forget(msg.jobId, msg.attempt);
        const to = await rejectJobTo(pool, msg.jobId, msg.attempt, msg.reason);
        if (to === "completed") {
          // Its run is being cancelled: the job ended here instead of going back to the queue.
          this.d.signals.done(msg.jobId);
          this.d.logs.jobDone(msg.jobId);
        }
        if (to !== undefined) this.d.wakeDispatcher();
        return;
      }
      case "event": {
        const after = await this.storeEvent(pool, conn, msg);
        after();
        return;
      }
      case "finished": {
        const k = refKey(msg.jobId, msg.attempt);
        if (conn.allowed.has(k)) {
          const masker = await this.maskers.get(pool, msg.jobId, msg.attempt);
          const masked = maskResult(masker, cleanDeep(msg.result) as unknown as JobResult);
          const result = masked.result;
          if (masked.dropped.length > 0) {
            this.d.logger.warn(
              { jobId: msg.jobId, attempt: msg.attempt, outputs: masked.dropped },
              "job outputs dropped: they may contain a secret",
            );
          }
          // The failure reason a machine gave (a limit hit): stored as the job's error, one line.
          const error = typeof result.error === "string" ? result.error.slice(0, 500) : undefined;
          // Step summaries (masked with the result, bounded), stored before the job is completed.
          await storeSummaries(pool, msg.jobId, msg.attempt, boundedSummaries(result.summaries));
          const completed = await completeJob(pool, msg.jobId, msg.attempt, result, error);
          // Before the run's driver learns the job ended (signals.done): what follows the job
          // (its replicas) is queued before the jobs that need it.
          if (completed && this.d.jobCompleted) {
            try {
              await this.d.jobCompleted(msg.jobId);
            } catch (err) {
              this.d.logger.error({ err, jobId: msg.jobId }, "after-completion work failed");
            }
          }
          conn.allowed.delete(k);
          this.maskers.forget(msg.jobId, msg.attempt);
          this.d.signals.done(msg.jobId);
          this.d.logs.jobDone(msg.jobId);
          this.d.wakeDispatcher();
        }
        conn.ack(msg.jobId, msg.attempt, msg.seq, true);
        return;
      }
    }
  }

  /**
   * Events in one transaction: one commit for many log lines. Acks and live publishing happen only
   * after the commit. Should the transaction fail, each event is stored on its own instead, so one
   * bad event costs only itself.
   */
  private async storeBatch(conn: Connection, batch: EventMsg[]): Promise<void> {
    if (conn.refused) return;
    if (batch.length === 1) return this.handle(conn, batch[0]!);
    let client: pg.PoolClient | undefined;
    try {
      client = await this.d.pool.connect();
      await client.query("BEGIN");
      const effects: Array<() => void> = [];
      // Plain log lines and annotations of one attempt are stored together (appendLogs); they are
      // flushed before any other event of that attempt, so the log keeps its order.
      const plain = new Map<string, EventMsg[]>();
      const flush = async (k: string): Promise<void> => {
        const list = plain.get(k);
        if (!list) return;
        plain.delete(k);
        effects.push(await this.storeLines(client!, conn, list));
      };
      for (const msg of batch) {
        const k = refKey(msg.jobId, msg.attempt);
        const type = msg.event.type;
        if ((type === "log" || type === "annotation") && conn.allowed.has(k)) {
          plain.set(k, [...(plain.get(k) ?? []), msg]);
          continue;
        }
        await flush(k);
        effects.push(await this.storeEvent(client, conn, msg));
      }
      for (const k of [...plain.keys()]) await flush(k);
      await client.query("COMMIT");
      for (const f of effects) f();
      return;
    } catch (err) {
      await client?.query("ROLLBACK").catch(() => undefined);
      this.d.logger.warn(
        { nodeId: conn.nodeId, err, events: batch.length },
        "event batch failed; storing one by one",
      );
    } finally {
      client?.release();
    }
    for (const msg of batch) await this.handle(conn, msg);
  }

  /** Log lines and annotations of one job attempt, in seq order, with one statement. */
  private async storeLines(db: pg.PoolClient, conn: Connection, list: EventMsg[]): Promise<() => void> {
    const { jobId, attempt } = list[0]!;
    const masker = await this.maskers.get(db, jobId, attempt);
    const chunks = list.map((m) => {
      const event = maskDeep(masker, cleanDeep(m.event) as unknown as RunnerEvent);
      const time = logTime(m.event.at);
      return {
        seq: m.seq,
        data: masker.mask(eventText(event)),
        source: eventSource(event),
        style: eventStyle(event),
        time,
      };
    });
    const stored = await appendLogs(db, jobId, attempt, chunks, this.d.config.logCapBytes);
    return () => {
      for (const c of chunks) {
        const data = stored.get(c.seq);
        // An empty chunk (the end of a group) goes live too: a follower folds groups with it.
        if (data !== undefined)
          this.d.logs.publish({
            jobId,
            attempt,
            seq: c.seq,
            data,
            source: c.source,
            style: c.style,
            time: c.time.toISOString(),
          });
        conn.ack(jobId, attempt, c.seq, false);
      }
    };
  }

  /** Stores one event; returns what to do once it is committed (publish, ack). */
  private async storeEvent(db: Queryable, conn: Connection, msg: EventMsg): Promise<() => void> {
    const { config } = this.d;
    const ack = (): void => conn.ack(msg.jobId, msg.attempt, msg.seq, false);
    if (!conn.allowed.has(refKey(msg.jobId, msg.attempt))) return ack; // stale: let the agent drop it
    const raw = cleanDeep(msg.event);
    const time = logTime(msg.event.at);
    if (raw.type === "log-truncated") {
      const marked = await markLogTruncated(db, msg.jobId, msg.attempt, msg.seq, config.logCapBytes);
      return () => {
        if (marked !== "") {
          const { jobId, attempt, seq } = msg;
          this.d.logs.publish({
            jobId,
            attempt,
            seq,
            data: marked,
            source: "system",
            style: null,
            time: new Date().toISOString(),
          });
        }
        ack();
      };
    }
    const masker = await this.maskers.get(db, msg.jobId, msg.attempt);
    const event = maskDeep(masker, raw as unknown as RunnerEvent);
    const source = eventSource(event);
    const style = eventStyle(event);
    const text = masker.mask(eventText(event));
    const stored = await appendLog(
      db,
      msg.jobId,
      msg.attempt,
      msg.seq,
      text,
      config.logCapBytes,
      source,
      time,
      style,
    );
    if (event.type === "step-started") {
      await recordStep(db, msg.jobId, msg.attempt, event.step, "started");
    } else if (event.type === "step-finished") {
      const r = event.result;
      await recordStep(db, msg.jobId, msg.attempt, event.step, {
        outcome: r.outcome,
        conclusion: r.conclusion,
        outputs: r.outputs,
      });
    }
    return () => {
      if (stored.stored) {
        const { jobId, attempt, seq } = msg;
        this.d.logs.publish({
          jobId,
          attempt,
          seq,
          data: stored.data,
          source,
          style,
          time: time.toISOString(),
        });
      }
      ack();
    };
  }

  /** Labels the agent claims that the administrator did not give: ignored, logged and audited. */
  private async refuseClaimedLabels(
    nodeId: number,
    node: { name: string; labels: string[]; required_labels: string[] },
    claimed: readonly string[],
  ): Promise<void> {
    const given = new Set([...node.labels, ...node.required_labels].map((l) => l.toLowerCase()));
    const ignored = [...new Set(claimed)].filter((l) => !given.has(l.toLowerCase()));
    if (ignored.length === 0) return;
    this.d.logger.warn(
      { nodeId, node: node.name, ignored },
      "node agent claimed labels it was not given; ignored (set them with airlock nodes set-labels)",
    );
    await appendAudit(this.d.pool, {
      actor: { kind: "node", id: String(nodeId), display: node.name },
      action: "node.labels_refused",
      object: { kind: "node", id: nodeId },
      details: { name: node.name, ignored },
    });
  }

  private async hello(conn: Connection, msg: Extract<AgentMessage, { type: "hello" }>): Promise<void> {
    const { pool, config } = this.d;
    if (msg.protocol !== PROTOCOL_VERSION) {
      // The reason (at most 123 bytes) names both versions: the agent logs it as the cause.
      conn.socket.close(
        CloseCode.unsupportedProtocol,
        `agent protocol ${msg.protocol} (airlock ${msg.agentVersion.replace(/[^\x20-\x7e]/g, "?").slice(0, 20)}) is not supported; this orchestrator speaks protocol ${PROTOCOL_VERSION}`,
      );
      return;
    }
    const n = msg.node;
    // Capacity, provisioners and images are facts the agent reports; labels are not: a node's
    // labels are what an administrator gave it (docs/security.md), so a node credential holder
    // can never attract protected jobs by claiming `gpu-prod` or `deployer` here.
    const { rows } = await pool.query<{ name: string; labels: string[]; required_labels: string[] }>(
      `UPDATE nodes SET cpus = $2, memory_mb = $3, disk_mb = $4, provisioners = $5, images = $6,
              provisioner_info = $7, connected = true, last_seen_at = now()
        WHERE id = $1 AND revoked_at IS NULL RETURNING name, labels, required_labels`,
      [conn.nodeId, n.cpus, n.memoryMb, n.diskMb, n.provisioners, n.images, provisionerInfo(n)],
    );
    if (!rows[0]) {
      // Revoked (or deleted) since the connection was accepted.
      conn.socket.close(CloseCode.unauthorized, "node revoked");
      return;
    }
    await this.refuseClaimedLabels(conn.nodeId, rows[0], n.labels);
    // What this node holds according to the database.
    const held = await pool.query<{ id: string; attempt: number; state: string }>(
      `SELECT id, attempt, state FROM jobs WHERE node_id = $1 AND state IN ('assigned', 'running')`,
      [conn.nodeId],
    );
    const dbRefs = new Map(held.rows.map((r) => [refKey(Number(r.id), r.attempt), r]));
    const abandon: JobRef[] = msg.running.filter((r) => !dbRefs.has(refKey(r.jobId, r.attempt)));
    const keep: JobRef[] = msg.running.filter((r) => dbRefs.has(refKey(r.jobId, r.attempt)));
    for (const r of keep) conn.allowed.add(refKey(r.jobId, r.attempt));
    // Attempts the agent has finished but not yet had acknowledged may still be in its outbox:
    // let it report on every attempt the database gives this node.
    for (const k of dbRefs.keys()) conn.allowed.add(k);
    const stored = await lastStoredSeq(
      pool,
      [...dbRefs.values()].map((r) => ({ jobId: Number(r.id), attempt: r.attempt })),
    );
    await renewLeases(pool, conn.nodeId, keep, config.leaseMs);
    conn.send({
      type: "welcome",
      nodeId: conn.nodeId,
      nodeName: rows[0].name,
      heartbeatMs: config.heartbeatMs,
      stored,
      abandon,
    });
    this.d.wakeDispatcher();
  }
}

/** The provisioners' own lines, as data: known provisioners only, printable, bounded. */
function provisionerInfo(n: {
  provisioners: string[];
  provisionerInfo?: Record<string, string> | undefined;
}): string {
  const out: Record<string, string> = {};
  for (const name of n.provisioners.slice(0, 16)) {
    const line = n.provisionerInfo?.[name];
    if (typeof line === "string") out[name.slice(0, 40)] = line.replace(/[^\x20-\x7e]/g, "?").slice(0, 300);
  }
  return JSON.stringify(out);
}
