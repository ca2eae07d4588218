// GET /api/v1/agent — the node agents' WebSocket. The node credential is checked on the HTTP upgrade
// request, BEFORE the WebSocket handshake completes: an unauthenticated client gets a plain 401
// and never a socket, and a client address with too many failures a 429 before any lookup.
// Authenticated sockets are handed to the core's AgentHub, which rotates the credential.
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { FastifyInstance } from "fastify";
import { WebSocketServer } from "ws";
import { AirlockError, ErrorCode } from "../errors/index.js";
import { authenticateNode } from "../orchestrator/node-auth/index.js";
import { CloseCode } from "../protocol/agent.js";
import { bearerToken } from "./auth.js";
import type { RouteContext } from "./deps.js";
import { errorBody } from "./errors.js";
import { nodeAuthGate } from "./node-throttle.js";

export const AGENT_PATH = "/api/v1/agent";
/** Largest agent message; job events are small, a `finished` result carries outputs. */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

function refuse(socket: Duplex, status: number, reason: string, err: AirlockError): void {
  const body = JSON.stringify(errorBody(err));
  const retryMs = (err.details as { retryAfterMs?: number } | undefined)?.retryAfterMs;
  const extra =
    (status === 401 ? "WWW-Authenticate: Bearer\r\n" : "") +
    (retryMs === undefined ? "" : `Retry-After: ${Math.max(1, Math.ceil(retryMs / 1000))}\r\n`);
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`,
  );
}

/** The node a presented credential belongs to; undefined for none or a refused one (counted). */
async function authenticateUpgrade(
  ctx: RouteContext,
  req: IncomingMessage,
): Promise<{ nodeId: number } | AirlockError | undefined> {
  const gate = nodeAuthGate(ctx.nodeAuthLimiter, req.socket.remoteAddress);
  const limited = await gate.refusal();
  if (limited) return limited;
  const credential = bearerToken(req.headers.authorization);
  const node = credential === undefined ? undefined : await authenticateNode(ctx.pool, credential);
  if (!node) await gate.failed();
  return node;
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
    authenticateUpgrade(ctx, req).then(
      (node) => {
        if (socket.destroyed) return;
        if (node instanceof AirlockError) {
          refuse(socket, 429, "Too Many Requests", node);
          return;
        }
        if (!node) {
          refuse(
            socket,
            401,
            "Unauthorized",
            new AirlockError(ErrorCode.UNAUTHORIZED, "invalid, missing or revoked node credential"),
          );
          return;
        }
        wss.handleUpgrade(req, socket, head, (ws) => ctx.agents.accept(ws, node.nodeId));
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
