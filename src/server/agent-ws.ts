// GET /api/v1/agent — the node agents' WebSocket. The node token is checked on the HTTP upgrade
// request, BEFORE the WebSocket handshake completes: an unauthenticated client gets a plain 401
// and never a socket. Authenticated sockets are handed to the core's AgentHub.
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { FastifyInstance } from "fastify";
import { WebSocketServer } from "ws";
import { AirlockError, ErrorCode } from "../errors/index.js";
import { authenticate } from "../orchestrator/tokens/index.js";
import { CloseCode } from "../protocol/agent.js";
import { bearerToken } from "./auth.js";
import type { RouteContext } from "./deps.js";
import { errorBody } from "./errors.js";

export const AGENT_PATH = "/api/v1/agent";
/** Largest agent message; job events are small, a `finished` result carries outputs. */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

function refuse(socket: Duplex, status: number, reason: string, err: AirlockError): void {
  const body = JSON.stringify(errorBody(err));
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n${status === 401 ? "WWW-Authenticate: Bearer\r\n" : ""}\r\n${body}`,
  );
}

export function installAgentSocket(app: FastifyInstance, ctx: RouteContext): void {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on("error", () => undefined);
    const path = (req.url ?? "").split("?")[0];
    if (path !== AGENT_PATH) {
      refuse(
        socket,
        404,
        "Not Found",
        new AirlockError(ErrorCode.NOT_FOUND, `no WebSocket endpoint ${path}`),
      );
      return;
    }
    const token = bearerToken(req.headers.authorization);
    const auth = token === undefined ? Promise.resolve(undefined) : authenticate(ctx.pool, token, "agent");
    auth.then(
      (principal) => {
        if (socket.destroyed) return;
        if (!principal || principal.nodeId === null) {
          refuse(
            socket,
            401,
            "Unauthorized",
            new AirlockError(ErrorCode.UNAUTHORIZED, "invalid or missing node token"),
          );
          return;
        }
        const nodeId = principal.nodeId;
        wss.handleUpgrade(req, socket, head, (ws) => ctx.agents.accept(ws, nodeId));
      },
      (err: unknown) => {
        app.log.error({ err }, "agent authentication failed");
        refuse(
          socket,
          503,
          "Service Unavailable",
          new AirlockError(ErrorCode.DB_FAILED, "cannot authenticate now"),
        );
      },
    );
  };
  app.server.on("upgrade", onUpgrade);

  // A plain GET (no Upgrade header) reaches fastify: say what this endpoint is for.
  app.get(AGENT_PATH, async (_request, reply) =>
    reply
      .status(426)
      .header("upgrade", "websocket")
      .send(errorBody(new AirlockError(ErrorCode.USAGE, "this endpoint is a WebSocket for node agents"))),
  );

  // Agents reconnect with backoff; tell them we are going away, then make sure nothing lingers.
  app.addHook("preClose", async () => {
    app.server.off("upgrade", onUpgrade);
    const open = [...wss.clients];
    for (const ws of open) ws.close(CloseCode.goingAway, "server shutting down");
    await Promise.race([
      Promise.all(open.map((ws) => new Promise((resolve) => ws.once("close", resolve)))),
      new Promise((resolve) => setTimeout(resolve, 1000).unref()),
    ]);
    for (const ws of wss.clients) ws.terminate();
    wss.close();
  });
}
