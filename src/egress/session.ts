// One machine's door to the network: an HTTP proxy listening on a unix socket of its own (the
// machine's relay is the only client; the socket identifies the job, so there is no other
// authentication). Bounded: header size, header and request timeouts, idle tunnels, the number
// of open connections. Fail closed: a handler that throws refuses and closes the connection.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Target } from "./policy.js";
import type { AllowList } from "./policy.js";
import { decide, type DecideContext, type Decision } from "./decide.js";
import { handleForward } from "./forward.js";
import type { EgressRecord } from "./record.js";
import { handleConnect } from "./tunnel.js";

export interface SessionLimits {
  maxHeaderBytes: number;
  headersTimeoutMs: number;
  connectTimeoutMs: number;
  helloTimeoutMs: number;
  idleTimeoutMs: number;
  maxConnections: number;
}

export const DEFAULT_LIMITS: SessionLimits = {
  maxHeaderBytes: 16 * 1024,
  headersTimeoutMs: 10_000,
  connectTimeoutMs: 10_000,
  helloTimeoutMs: 10_000,
  idleTimeoutMs: 5 * 60_000,
  maxConnections: 256,
};

export interface SessionContext extends SessionLimits {
  decide(t: Target): Promise<Decision>;
  record(r: EgressRecord): void;
  /** Every socket the session touches: error-safe, destroyed when the session closes. */
  track(s: Socket): void;
}

export interface SessionServer {
  listen(path: string): Promise<void>;
  close(): Promise<void>;
}

export function createSessionServer(
  list: AllowList,
  dc: DecideContext,
  limits: SessionLimits,
  onRecord: (r: EgressRecord) => void,
): SessionServer {
  const sockets = new Set<Socket>();
  const ctx: SessionContext = {
    ...limits,
    decide: (t) => decide(list, t, dc),
    record(r) {
      try {
        onRecord(r);
      } catch {
        // A failing listener must not open or break a connection.
      }
    },
    track(s) {
      if (sockets.has(s)) return;
      sockets.add(s);
      s.on("error", () => s.destroy());
      s.once("close", () => sockets.delete(s));
    },
  };
  const server = createServer({
    maxHeaderSize: limits.maxHeaderBytes,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.headersTimeoutMs * 3,
    keepAliveTimeout: 5000,
  });
  server.maxConnections = limits.maxConnections;
  server.on("connection", (s: Socket) => ctx.track(s));
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    handleForward(ctx, req, res).catch(() => {
      ctx.record({ decision: "refused", method: req.method ?? "?", target: "?", reason: "proxy error" });
      res.destroy();
    });
  });
  server.on("connect", (req: IncomingMessage, s: Socket, head: Buffer) => {
    handleConnect(ctx, req, s, head).catch(() => {
      ctx.record({ decision: "refused", method: "CONNECT", target: "?", reason: "proxy error" });
      s.destroy();
    });
  });
  // WebSocket-style upgrades over plain HTTP are not forwarded.
  server.on("upgrade", (_req: IncomingMessage, s: Socket) => s.destroy());
  server.on("clientError", (_e, s: Socket) => s.destroy());

  return {
    listen: (path) =>
      new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(path, () => {
          server.off("error", reject);
          resolve();
        });
      }),
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
