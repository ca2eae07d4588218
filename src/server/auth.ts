// Bearer-token authentication of the admin API. A missing, malformed or unknown token gets the
// same 401: the response never tells which part was wrong.
import type { FastifyRequest } from "fastify";
import type pg from "pg";
import { AirlockError, ErrorCode } from "../errors/index.js";
import { authenticate, type Principal, type TokenKind } from "../orchestrator/tokens/index.js";

export function bearerToken(header: string | string[] | undefined): string | undefined {
  if (typeof header !== "string") return undefined;
  const m = /^Bearer +(\S+) *$/i.exec(header);
  return m?.[1];
}

export async function requireToken(
  pool: pg.Pool,
  request: FastifyRequest,
  kind: TokenKind,
): Promise<Principal> {
  const token = bearerToken(request.headers.authorization);
  const principal = token === undefined ? undefined : await authenticate(pool, token, kind);
  if (!principal)
    throw new AirlockError(
      ErrorCode.UNAUTHORIZED,
      token === undefined ? "missing bearer token" : "invalid or unknown token",
    );
  return principal;
}
