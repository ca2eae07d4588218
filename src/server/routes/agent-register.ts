// POST /api/v1/agent/register — a node agent's first call: it presents a one-time registration
// token (`Authorization: Bearer alk_reg_…`) and gets its node's first credential. Outside the admin
// scope: the registration token is the authentication. Every token that does not work (unknown,
// wrong, used, revoked, expired) gets the same 401; a client address with too many failures gets
// 429 before any lookup. The exchange and its audit entry commit together.
import type { FastifyInstance } from "fastify";
import { appendAudit } from "../../audit/index.js";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import { exchangeRegistration } from "../../orchestrator/node-auth/index.js";
import { REGISTER_PATH, type Registered } from "../../protocol/agent.js";
import { bearerToken } from "../auth.js";
import type { RouteContext } from "../deps.js";
import { errorBody } from "../errors.js";
import { nodeAuthGate } from "../node-throttle.js";

export function agentRegisterRoute(app: FastifyInstance, ctx: RouteContext): void {
  app.post(REGISTER_PATH, async (request, reply) => {
    const gate = nodeAuthGate(ctx.nodeAuthLimiter, request.ip);
    const limited = await gate.refusal();
    if (limited) {
      const retryMs = (limited.details as { retryAfterMs: number }).retryAfterMs;
      return reply
        .status(429)
        .header("retry-after", String(Math.max(1, Math.ceil(retryMs / 1000))))
        .send(errorBody(limited));
    }
    const token = bearerToken(request.headers.authorization);
    const done =
      token === undefined
        ? undefined
        : await exchangeRegistration(ctx.pool, token, (db, r) =>
            appendAudit(db, {
              actor: {
                kind: "registration",
                id: r.registrationId,
                display: `registration ${r.registrationId}`,
              },
              action: "node.registered",
              object: { kind: "node", id: r.node.id },
              clientAddress: request.ip,
              details: {
                name: r.node.name,
                labels: r.node.labels,
                requiredLabels: r.node.requiredLabels,
                registration: r.registrationId,
              },
            }),
          );
    if (!done) {
      await gate.failed();
      throw new AirlockError(
        ErrorCode.UNAUTHORIZED,
        "invalid registration token (unknown, used, revoked or expired)",
      );
    }
    const body: Registered = {
      nodeId: done.node.id,
      nodeName: done.node.name,
      credential: done.credential,
    };
    return reply.status(201).send(body);
  });
}
