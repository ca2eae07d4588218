// A small TEST orchestrator for the agent tests: a real `ws` WebSocketServer on 127.0.0.1 that speaks
// the agent protocol, validates every agent message with the zod schemas (violations are recorded,
// tests assert there are none), stores events by (job, attempt, seq) like the real orchestrator and
// acks them (unless told not to). Restartable on the same port to simulate an orchestrator restart.
// With `rotate`, it rotates the node credential like the real one (current + pending, `credential`
// on every connection, `credential-saved` retires the old one); with `registration`, it answers one
// exchange of that registration token.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";
import { AgentMessage, CloseCode, type ServerMessage } from "../../src/protocol/agent.js";

export interface FakeServerOptions {
  token?: string;
  port?: number;
  heartbeatMs?: number;
  /** Ack every event/finished as it is stored (default true). */
  autoAck?: boolean;
  /** `stored` for the welcome, by "jobId-attempt"; default: what this server has stored. */
  stored?: Record<string, number>;
  abandon?: Array<{ jobId: number; attempt: number }>;
  /** Answer every upgrade with this HTTP status instead (e.g. 401). */
  rejectUpgrade?: number;
  /** Send a new credential on every connection and accept the old one until it is saved. */
  rotate?: boolean;
  /** One registration token POST /api/v1/agent/register exchanges (once) for `token`. */
  registration?: string;
}

export interface Received {
  /** Every valid agent message, in arrival order, across connections. */
  messages: AgentMessage[];
  violations: string[];
  connections: number;
}

export class FakeServer {
  readonly received: Received = { messages: [], violations: [], connections: 0 };
  /** The Authorization header of every upgrade, in order. */
  readonly authorizations: Array<string | undefined> = [];
  /** Registration exchanges answered (by status). */
  readonly exchanges: number[] = [];
  /** The credentials that work now (with `rotate`: the current one and, until saved, the pending one). */
  current: string;
  pending: string | undefined;
  private issued = 0;
  /** (jobId-attempt) → seq → event/finished, as stored (first copy wins, like the real one). */
  readonly stored = new Map<string, Map<number, AgentMessage>>();
  private http: Server | undefined;
  private wss: WebSocketServer | undefined;
  private readonly sockets = new Set<WebSocket>();
  port = 0;

  constructor(private readonly o: FakeServerOptions = {}) {
    this.current = o.token ?? "good-token";
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    const wss = new WebSocketServer({ noServer: true });
    const http = createServer((req, res) => {
      if (req.method === "POST" && req.url === "/api/v1/agent/register" && this.o.registration) {
        req.resume();
        const ok =
          req.headers.authorization === `Bearer ${this.o.registration}` && !this.exchanges.includes(201);
        this.exchanges.push(ok ? 201 : 401);
        res.writeHead(ok ? 201 : 401, { "content-type": "application/json" });
        res.end(
          JSON.stringify(
            ok
              ? { nodeId: 7, nodeName: "test-node", credential: this.current }
              : { error: { code: "UNAUTHORIZED", message: "invalid registration token" } },
          ),
        );
        return;
      }
      res.writeHead(404).end();
    });
    http.on("upgrade", (req, socket, head) => {
      if (req.url !== "/api/v1/agent") return socket.destroy();
      if (this.o.rejectUpgrade) {
        this.received.connections++;
        socket.end(
          `HTTP/1.1 ${this.o.rejectUpgrade} Rejected\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
        );
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req.headers.authorization));
    });
    this.wss = wss;
    this.http = http;
    await new Promise<void>((resolve, reject) => {
      http.once("error", reject);
      http.listen(this.o.port ?? 0, "127.0.0.1", () => resolve());
    });
    this.port = (http.address() as AddressInfo).port;
    return this;
  }

  private accept(ws: WebSocket, authorization: string | undefined): void {
    this.received.connections++;
    this.authorizations.push(authorization);
    const presented = authorization?.replace(/^Bearer /, "");
    if (presented !== this.current && (presented === undefined || presented !== this.pending)) {
      ws.close(CloseCode.unauthorized, "unauthorized");
      return;
    }
    if (presented === this.pending) [this.current, this.pending] = [this.pending, undefined];
    this.sockets.add(ws);
    if (this.o.rotate) {
      this.pending = `rotated-${++this.issued}`;
      ws.send(JSON.stringify({ type: "credential", credential: this.pending }));
    }
    ws.on("close", () => this.sockets.delete(ws));
    ws.on("message", (data: Buffer) => {
      const text = data.toString("utf8");
      const parsed = AgentMessage.safeParse(JSON.parse(text));
      if (!parsed.success) {
        this.received.violations.push(`${text}: ${parsed.error.message}`);
        return;
      }
      this.onMessage(ws, parsed.data);
    });
  }

  private onMessage(ws: WebSocket, msg: AgentMessage): void {
    this.received.messages.push(msg);
    if (msg.type === "credential-saved" && this.pending !== undefined) {
      [this.current, this.pending] = [this.pending, undefined];
      return;
    }
    if (msg.type === "hello") {
      const stored = this.o.stored
        ? Object.entries(this.o.stored).map(([k, seq]) => ({ ...parseKey(k), seq }))
        : [...this.stored.keys()].map((k) => ({ ...parseKey(k), seq: this.lastContiguous(k) }));
      this.send({
        type: "welcome",
        nodeId: 7,
        nodeName: "test-node",
        heartbeatMs: this.o.heartbeatMs ?? 30_000,
        stored,
        abandon: this.o.abandon ?? [],
      });
      return;
    }
    if (msg.type !== "event" && msg.type !== "finished") return;
    const key = `${msg.jobId}-${msg.attempt}`;
    let seqs = this.stored.get(key);
    if (!seqs) this.stored.set(key, (seqs = new Map()));
    if (!seqs.has(msg.seq)) seqs.set(msg.seq, msg);
    if (this.o.autoAck ?? true) {
      const finished = msg.type === "finished";
      ws.send(
        JSON.stringify({
          type: "acks",
          acks: [{ jobId: msg.jobId, attempt: msg.attempt, seq: this.lastContiguous(key), finished }],
        }),
      );
    }
  }

  lastContiguous(key: string): number {
    const seqs = this.stored.get(key);
    let n = this.o.stored?.[key] ?? 0;
    while (seqs?.has(n + 1)) n++;
    return n;
  }

  send(msg: ServerMessage): void {
    for (const ws of this.sockets) ws.send(JSON.stringify(msg));
  }

  sendRaw(text: string): void {
    for (const ws of this.sockets) ws.send(text);
  }

  ofType<T extends AgentMessage["type"]>(type: T): Array<Extract<AgentMessage, { type: T }>> {
    return this.received.messages.filter((m): m is Extract<AgentMessage, { type: T }> => m.type === type);
  }

  /** Every event/finished received for a job attempt, in arrival order (duplicates included). */
  outputOf(jobId: number, attempt = 0): Array<Extract<AgentMessage, { type: "event" | "finished" }>> {
    return this.received.messages.filter(
      (m): m is Extract<AgentMessage, { type: "event" | "finished" }> =>
        (m.type === "event" || m.type === "finished") && m.jobId === jobId && m.attempt === attempt,
    );
  }

  get clients(): number {
    return this.sockets.size;
  }

  /** Drops every connection abruptly; the server goes on listening (agents reconnect). */
  dropConnections(): void {
    for (const ws of this.sockets) ws.terminate();
  }

  /** Drops every connection abruptly (like a killed orchestrator) and stops listening. */
  async close(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    this.sockets.clear();
    this.wss?.close();
    const http = this.http;
    this.http = undefined;
    if (http) {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
  }
}

function parseKey(key: string): { jobId: number; attempt: number } {
  const [jobId, attempt] = key.split("-").map(Number);
  return { jobId: jobId!, attempt: attempt! };
}
