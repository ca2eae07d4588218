// POST /api/v1/agent/release — a node agent redeems a job attempt's one-time release token
// (`Authorization: Bearer alk_rel_…`, body `{ machine }`) for the run DEK that opens the sealed
// secrets of that attempt's job, once its machine exists (src/secrets/release.ts). Every token that
// does not work gets the same 401; a client address with too many failures gets 429 first. Each
// release is audited (job, attempt, machine; never the key).
import type { FastifyInstance } from "fastify";
import { appendAudit } from "../../audit/index.js";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import { RELEASE_PATH, ReleaseRequest, type Released } from "../../protocol/agent.js";
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
    if (!body.success) throw new AirlockError(ErrorCode.USAGE, "expected { machine: <the machine's id> }");
    const token = bearerToken(request.headers.authorization);
    let released;
    try {
      if (token === undefined) throw new AirlockError(ErrorCode.UNAUTHORIZED, "a release token is required");
      released = await redeemRelease(ctx.pool, ctx.kms, token, body.data.machine);
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
