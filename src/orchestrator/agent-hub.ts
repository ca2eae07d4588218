// The orchestrator's side of the agent protocol (src/protocol/agent.ts): one connection per node,
// messages handled strictly in order per connection, acknowledgements batched. Job output is
// accepted only for job attempts assigned to the sending node.
import type pg from "pg";
import type { Logger } from "pino";
import type { WebSocket } from "ws";
import type { Histogram } from "prom-client";
import {
  acceptJobTimed,
  appendLog,
  completeJob,
  lastStoredSeq,
  recordStep,
  rejectJobTo,
  renewLeases,
  type JobRef,
} from "../queue/index.js";
import { eventText } from "../runner/index.js";
import type { JobResult, RunnerEvent } from "../runner/types.js";
import { AgentMessage, CloseCode, PROTOCOL_VERSION, type ServerMessage } from "../protocol/agent.js";
import type { CoreConfig } from "./config.js";
import type { MemoryLogHub } from "./log-hub.js";
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
}

const refKey = (jobId: number, attempt: number): string => `${jobId}:${attempt}`;

class Connection {
  /** Job attempts this node may report on. */
  readonly allowed = new Set<string>();
  private chain: Promise<void> = Promise.resolve();
  private pendingAcks = new Map<string, { jobId: number; attempt: number; seq: number; finished: boolean }>();
  private ackScheduled = false;

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

  constructor(private readonly d: AgentHubDeps) {}

  connectedNodes(): number {
    return this.conns.size;
  }

  isConnected(nodeId: number): boolean {
    return this.conns.has(nodeId);
  }

  accept(socket: WebSocket, nodeId: number): void {
    const old = this.conns.get(nodeId);
    if (old) old.socket.close(CloseCode.replaced, "replaced by a new connection");
    const conn = new Connection(nodeId, socket);
    this.conns.set(nodeId, conn);
    socket.on("message", (data: Buffer) => {
      conn.enqueue(() => this.handle(conn, data.toString("utf8")));
    });
    socket.on("close", () => {
      if (this.conns.get(nodeId) !== conn) return;
      this.conns.delete(nodeId);
      conn.enqueue(async () => {
        if (this.conns.has(nodeId)) return;
        await this.d.pool
          .query(`UPDATE nodes SET connected = false WHERE id = $1`, [nodeId])
          .catch(() => undefined);
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

  disconnect(nodeId: number): void {
    const conn = this.conns.get(nodeId);
    if (!conn) return;
    this.conns.delete(nodeId);
    conn.socket.close(CloseCode.unauthorized, "node deleted");
  }

  /** Closes every connection (shutdown): agents reconnect with backoff. */
  closeAll(): void {
    for (const c of this.conns.values()) c.socket.close(CloseCode.goingAway, "orchestrator shutting down");
    this.conns.clear();
  }

  private async handle(conn: Connection, text: string): Promise<void> {
    let msg: AgentMessage;
    try {
      msg = AgentMessage.parse(JSON.parse(text));
    } catch (err) {
      this.d.logger.warn({ nodeId: conn.nodeId, err }, "bad agent message");
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
      case "heartbeat":
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
        if (!conn.allowed.has(refKey(msg.jobId, msg.attempt))) {
          conn.ack(msg.jobId, msg.attempt, msg.seq, false); // stale: let the agent drop it
          return;
        }
        const event = msg.event as unknown as RunnerEvent;
        const stored = await appendLog(
          pool,
          msg.jobId,
          msg.attempt,
          msg.seq,
          eventText(event),
          config.logCapBytes,
        );
        if (stored.stored && stored.data !== "") {
          this.d.logs.publish({ jobId: msg.jobId, attempt: msg.attempt, seq: msg.seq, data: stored.data });
        }
        if (event.type === "step-started") {
          await recordStep(pool, msg.jobId, msg.attempt, event.step, "started");
        } else if (event.type === "step-finished") {
          const r = event.result;
          await recordStep(pool, msg.jobId, msg.attempt, event.step, {
            outcome: r.outcome,
            conclusion: r.conclusion,
            outputs: r.outputs,
          });
        }
        conn.ack(msg.jobId, msg.attempt, msg.seq, false);
        return;
      }
      case "finished": {
        const k = refKey(msg.jobId, msg.attempt);
        if (conn.allowed.has(k)) {
          const result = msg.result as unknown as JobResult;
          // The failure reason a machine gave (a limit hit): stored as the job's error, one line.
          const error = typeof result.error === "string" ? result.error.slice(0, 500) : undefined;
          await completeJob(pool, msg.jobId, msg.attempt, result, error);
          conn.allowed.delete(k);
          this.d.signals.done(msg.jobId);
          this.d.logs.jobDone(msg.jobId);
          this.d.wakeDispatcher();
        }
        conn.ack(msg.jobId, msg.attempt, msg.seq, true);
        return;
      }
    }
  }

  private async hello(conn: Connection, msg: Extract<AgentMessage, { type: "hello" }>): Promise<void> {
    const { pool, config } = this.d;
    if (msg.protocol !== PROTOCOL_VERSION) {
      conn.socket.close(CloseCode.badMessage, `protocol ${msg.protocol} is not supported`);
      return;
    }
    const n = msg.node;
    const { rows } = await pool.query<{ name: string }>(
      `UPDATE nodes SET cpus = $2, memory_mb = $3, disk_mb = $4, provisioners = $5, images = $6,
              labels = ARRAY(SELECT DISTINCT unnest(labels || $7::text[])), connected = true, last_seen_at = now()
        WHERE id = $1 RETURNING name`,
      [conn.nodeId, n.cpus, n.memoryMb, n.diskMb, n.provisioners, n.images, n.labels],
    );
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
      nodeName: rows[0]?.name ?? String(conn.nodeId),
      heartbeatMs: config.heartbeatMs,
      stored,
      abandon,
    });
    this.d.wakeDispatcher();
  }
}
