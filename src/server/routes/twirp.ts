// Twirp's error shape for the GitHub results services (artifacts v4, caches v2):
// { code, msg, meta: { airlock_code } }, with the HTTP status of the Airlock code. The toolkit
// clients read `msg` and retry only 429 and 5xx.
import type { FastifyReply, FastifyRequest } from "fastify";
import { AirlockError, ErrorCode, isAirlockError } from "../../errors/index.js";
import { statusOf } from "../errors.js";

const TWIRP_CODE: Record<number, string> = {
  400: "invalid_argument",
  401: "unauthenticated",
  403: "permission_denied",
  404: "not_found",
  409: "already_exists",
  413: "resource_exhausted",
  429: "resource_exhausted",
  503: "unavailable",
};

export function twirpError(request: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const e = isAirlockError(err) ? err : new AirlockError(ErrorCode.INTERNAL, "internal server error");
  const status = statusOf(e.code);
  if (status >= 500) request.log.error({ err }, "results service call failed");
  return reply
    .status(status)
    .send({ code: TWIRP_CODE[status] ?? "internal", msg: e.message, meta: { airlock_code: e.code } });
}
