// One error shape for every failure: { error: { code, message, details? } }, with the HTTP
// status derived from the AirlockError code. Fastify's own errors (bad JSON, body too large,
// unsupported media type) are mapped too; anything else is a bug: 500 INTERNAL, logged, and the
// client learns nothing about the inside.
import type { FastifyError, FastifyInstance } from "fastify";
import { AirlockError, ErrorCode, isAirlockError } from "../errors/index.js";

const STATUS: Partial<Record<ErrorCode, number>> = {
  USAGE: 400,
  WORKFLOW_INVALID: 400,
  FILE_TOO_LARGE: 400,
  PASSWORD_INVALID: 400,
  SCOPE_INVALID: 400,
  SECRET_INVALID: 400,
  SECRET_TOO_LARGE: 413,
  SECRET_TOO_SHORT: 400,
  ENVIRONMENT_INVALID: 400,
  POOL_INVALID: 400,
  CREDENTIAL_INVALID: 400,
  ARTIFACT_INVALID: 400,
  ARTIFACT_DIGEST_MISMATCH: 400,
  ARTIFACT_TOO_LARGE: 413,
  // A size limit, as ARTIFACT_TOO_LARGE (twirp resource_exhausted; not retried by the toolkit).
  ARTIFACT_QUOTA_EXCEEDED: 413,
  ARTIFACT_NOT_PROMOTABLE: 409,
  BLOB_NOT_FOUND: 404,
  RANGE_NOT_SATISFIABLE: 416,
  RATE_LIMITED: 429,
  EXPRESSION_INVALID: 400,
  WEBHOOK_INVALID: 400,
  SOURCE_REF_INVALID: 400,
  UNAUTHORIZED: 401,
  WEBHOOK_UNAUTHORIZED: 401,
  SSO_FAILED: 401,
  FORBIDDEN: 403,
  LOGIN_METHOD_DISABLED: 403,
  NOT_FOUND: 404,
  WORKFLOW_NOT_FOUND: 404,
  SOURCE_COMMIT_NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  WEBHOOK_TOO_LARGE: 413,
  SOURCE_FETCH_FAILED: 502,
  SSO_PROVIDER_UNAVAILABLE: 502,
  DB_FAILED: 503,
  KMS_FAILED: 503,
  BLOB_STORE_UNAVAILABLE: 503,
};

export function statusOf(code: ErrorCode): number {
  return STATUS[code] ?? 500;
}

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export function errorBody(err: AirlockError): ErrorBody {
  return {
    error: {
      code: err.code,
      message: err.message,
      ...(err.details === undefined ? {} : { details: err.details }),
    },
  };
}

/** Fastify's own client errors as AirlockErrors (they carry a 4xx statusCode). */
function fromFastify(err: FastifyError): { status: number; error: AirlockError } | undefined {
  const status = err.statusCode;
  if (status === undefined || status < 400 || status >= 500) return undefined;
  if (status === 413)
    return { status, error: new AirlockError(ErrorCode.PAYLOAD_TOO_LARGE, "request body is too large") };
  return { status, error: new AirlockError(ErrorCode.USAGE, err.message) };
}

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (isAirlockError(err)) {
      const status = statusOf(err.code);
      if (status >= 500) request.log.error({ err }, "request failed");
      if (status === 401) void reply.header("www-authenticate", "Bearer");
      return reply.status(status).send(errorBody(err));
    }
    const client = fromFastify(err);
    if (client) return reply.status(client.status).send(errorBody(client.error));
    request.log.error({ err }, "unexpected error");
    return reply.status(500).send(errorBody(new AirlockError(ErrorCode.INTERNAL, "internal server error")));
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .status(404)
      .send(
        errorBody(
          new AirlockError(ErrorCode.NOT_FOUND, `no route ${request.method} ${request.url.split("?")[0]}`),
        ),
      ),
  );
}
