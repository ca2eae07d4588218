// The agent's one WebSocket to the orchestrator, redialled until stop(): exponential backoff with
// jitter between attempts (reset once a connection is welcomed). Each failed dial is given its
// cause (src/agent/connect-cause.ts: connection refused, DNS, TLS, 401, 404, protocol version...),
// logged in one line when the cause changes (repeats only at debug level). A cause retrying cannot
// help (credential refused, no endpoint at the address, another protocol) goes to `onFinal` and
// redialling stops; without `onFinal` it is retried slowly. Each dial asks for the credential
// afresh: it rotates, and a dial waits for a credential still being saved (credentials.ts).
import WebSocket, { type RawData } from "ws";
import { ServerMessage } from "../protocol/agent.js";
import { causeOfClose, causeOfError, type CauseKind, type ConnectCause } from "./connect-cause.js";
import type { AgentLogger } from "./logger.js";

export interface ConnectionOptions {
  url: string;
  /** The credential to dial with; may wait (for a save under way). */
  credential(): Promise<string>;
  log: AgentLogger;
  minBackoffMs: number;
  maxBackoffMs: number;
  /** Delay between attempts while the credential is refused. */
  unauthorizedRetryMs: number;
  onOpen(): void;
  onMessage(msg: ServerMessage): void;
  onClose(): void;
  /** A cause retrying cannot help; redialling has stopped. Absent: retried every unauthorizedRetryMs. */
  onFinal?(cause: ConnectCause): void;
}

export class Connection {
  private ws: WebSocket | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopped = false;
  private closed: Promise<void> = Promise.resolve();
  /** A dial is waiting for its credential. */
  private dialing = false;
  /** True while the orchestrator refuses the credential. */
  unauthorized = false;
  /** The cause last logged (a repeat is logged at debug level only); cleared by a welcome. */
  private lastCause: CauseKind | undefined;
  /** Why the last dial failed, when it did. */
  lastFailure: ConnectCause | undefined;
  /** Connection attempts so far (for diagnostics and tests); also names the current connection. */
  attempts = 0;

  constructor(private readonly o: ConnectionOptions) {}

  start(): void {
    this.stopped = false;
    if (!this.ws && !this.timer && !this.dialing) this.dial();
  }

  get open(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  /**
   * Sends a text frame if connected; false otherwise (callers resend after the next welcome).
   * `onWritten` runs once the frame has left for the socket (or failed).
   */
  send(text: string, onWritten?: () => void): boolean {
    if (!this.open) return false;
    if (onWritten) this.ws!.send(text, () => onWritten());
    else this.ws!.send(text);
    return true;
  }

  /** Bytes queued on the socket and not yet written (0 when closed). */
  get bufferedAmount(): number {
    return this.ws?.bufferedAmount ?? 0;
  }

  /** The connection was welcomed: the next failure starts the backoff from the beginning. */
  healthy(): void {
    this.failures = 0;
    this.unauthorized = false;
    this.lastCause = undefined;
    this.lastFailure = undefined;
  }

  private dial(): void {
    this.timer = undefined;
    this.attempts++;
    this.dialing = true;
    this.o.credential().then(
      (credential) => {
        this.dialing = false;
        if (!this.stopped) this.connect(credential);
      },
      (err: unknown) => {
        this.dialing = false;
        this.o.log.error(
          { err: err instanceof Error ? err.message : String(err) },
          "no node credential to connect with",
        );
        if (!this.stopped) this.timer = setTimeout(() => this.dial(), this.o.unauthorizedRetryMs);
      },
    );
  }

  private connect(credential: string): void {
    const ws = new WebSocket(this.o.url, {
      headers: { authorization: `Bearer ${credential}` },
      handshakeTimeout: 10_000,
    });
    this.ws = ws;
    let opened = false;
    let failure: ConnectCause | undefined;
    this.closed = new Promise((resolve) => {
      ws.on("close", (code, reason) => {
        resolve();
        if (this.ws === ws) this.ws = undefined;
        this.o.onClose();
        const cause = opened ? causeOfClose(code, reason.toString("utf8"), this.o.url) : failure;
        this.scheduleRedial(code, opened, cause);
      });
    });
    ws.on("open", () => {
      opened = true;
      this.o.onOpen();
    });
    ws.on("error", (err) => {
      if (!opened) failure = causeOfError(err, this.o.url);
      this.o.log.debug({ err: err.message, url: this.o.url }, "agent connection error");
    });
    ws.on("message", (data, isBinary) => {
      if (isBinary) return;
      let parsed: ReturnType<typeof ServerMessage.safeParse>;
      try {
        parsed = ServerMessage.safeParse(JSON.parse(rawText(data)));
      } catch {
        this.o.log.warn({}, "orchestrator sent a message that is not JSON; ignored");
        return;
      }
      if (!parsed.success) {
        this.o.log.warn({ issues: parsed.error.issues }, "orchestrator sent an invalid message; ignored");
        return;
      }
      this.o.onMessage(parsed.data);
    });
  }

  private scheduleRedial(code: number, opened: boolean, cause: ConnectCause | undefined): void {
    if (this.stopped) return;
    this.lastFailure = cause;
    if (cause?.kind === "unauthorized") this.unauthorized = true;
    if (cause?.final) {
      if (this.lastCause !== cause.kind)
        this.o.log.error({ url: this.o.url, cause: cause.kind }, cause.message);
      this.lastCause = cause.kind;
      if (this.o.onFinal) {
        this.stopped = true;
        this.o.onFinal(cause);
        return;
      }
      this.timer = setTimeout(() => this.dial(), this.o.unauthorizedRetryMs);
      return;
    }
    const base = Math.min(this.o.maxBackoffMs, this.o.minBackoffMs * 2 ** Math.min(this.failures, 30));
    const delay = base / 2 + Math.random() * (base / 2);
    this.failures++;
    const retryInMs = Math.round(delay);
    if (opened && !cause) this.o.log.info({ code, retryInMs }, "disconnected from the orchestrator");
    else if (cause && this.lastCause !== cause.kind) {
      this.o.log.warn({ url: this.o.url, cause: cause.kind, retryInMs }, `${cause.message}; retrying`);
      this.lastCause = cause.kind;
    } else
      this.o.log.debug({ cause: cause?.kind, code, retryInMs }, "cannot connect to the orchestrator yet");
    this.timer = setTimeout(() => this.dial(), delay);
  }

  /** Closes the socket (waiting for it to close) and cancels any redial. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const ws = this.ws;
    if (ws) {
      if (ws.readyState === WebSocket.OPEN) ws.close(1000, "agent stopping");
      else ws.terminate();
      // A peer that never answers the close handshake must not hold stop() forever.
      const force = setTimeout(() => ws.terminate(), 2_000);
      await this.closed;
      clearTimeout(force);
    }
  }
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  if (Buffer.isBuffer(data)) return data.toString("utf8");
  return Buffer.from(data).toString("utf8");
}
