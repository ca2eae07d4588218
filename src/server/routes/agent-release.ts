// POST /api/v1/agent/release — a node agent redeems a job attempt's one-time release token
// (`Authorization: Bearer <node credential>`, body `{ machine, token }`) for the run DEK that opens
// the sealed secrets of that attempt's job, once its machine exists (src/secrets/release.ts). Only
// the node the attempt is assigned to can: a token captured with an `assign` message is useless
// without that node's credential. Every refusal gets the same 401; a client address with too many
// failures gets 429 first. Each release is audited (job, attempt, machine, node; never the key).
import type { FastifyInstance } from "fastify";
import { appendAudit } from "../../audit/index.js";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import { RELEASE_PATH, ReleaseRequest, type Released } from "../../protocol/agent.js";
import { authenticateNode } from "../../orchestrator/node-auth/index.js";
import { redeemRelease } from "../../secrets/index.js";
import { bearerToken } from "../auth.js";
import type { RouteContext } from "../deps.js";
import { errorBody } from "../errors.js";
import { nodeAuthGate } from "../node-throttle.js";

export function agentReleaseRoute(app: FastifyInstance, ctx: RouteContext): void {
  app.post(RELEASE_PATH, async (request, reply) => {
    const gate = nodeAuthGate(ctx.nodeAuthLimiter, request.ip);
    const limited = await gate.refusal();
    if (limited) {
      const retryMs = (limited.details as { retryAfterMs: number }).retryAfterMs;
      return reply
        .status(429)
        .header("retry-after", String(Math.max(1, Math.ceil(retryMs / 1000))))
        .send(errorBody(limited));
    }
    const body = ReleaseRequest.safeParse(request.body ?? {});
    if (!body.success)
      throw new AirlockError(
        ErrorCode.USAGE,
        "expected { machine: <the machine's id>, token: <the release token> }",
      );
    const credential = bearerToken(request.headers.authorization);
    let released;
    try {
      const node = credential === undefined ? undefined : await authenticateNode(ctx.pool, credential);
      if (!node) throw new AirlockError(ErrorCode.UNAUTHORIZED, "a node credential is required");
      released = await redeemRelease(ctx.pool, ctx.kms, body.data.token, body.data.machine, node.nodeId);
    } catch (e) {
      if (e instanceof AirlockError && e.code === ErrorCode.UNAUTHORIZED) await gate.failed();
      throw e;
    }
    try {
      await appendAudit(ctx.pool, {
        actor: { kind: "node", id: released.nodeId },
        action: "secrets.released",
        object: { kind: "job", id: released.jobId },
        clientAddress: request.ip,
        details: { attempt: released.attempt, machine: body.data.machine, run: released.binding.runId },
      });
      const answer: Released = {
        jobId: released.jobId,
        attempt: released.attempt,
        key: released.key.toString("base64url"),
        binding: released.binding,
      };
      return reply.status(200).send(answer);
    } finally {
      released.key.fill(0);
    }
  });
}
