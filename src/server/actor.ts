// Who is asking, for the audit log: the authentication hook remembers the request's principal,
// and audited() runs a change and its audit entry in one transaction, so a change that happened
// is recorded, and one whose entry could not be written did not happen.
import type { FastifyRequest } from "fastify";
import type pg from "pg";
import { appendAudit, type AuditActor, type AuditInput } from "../audit/index.js";
import { inTransaction } from "../orchestrator/catalog/index.js";
import type { Principal } from "../orchestrator/tokens/index.js";

const actors = new WeakMap<FastifyRequest, AuditActor>();

/** The request was authenticated with the admin token. */
export function rememberPrincipal(request: FastifyRequest, p: Principal): void {
  actors.set(request, { kind: "token", id: p.tokenId, display: p.kind });
}

/** The request was authenticated as a user (session, or one of the user's API tokens). */
export function rememberActor(request: FastifyRequest, actor: AuditActor): void {
  actors.set(request, actor);
}

/** The actor and client address of an authenticated request. */
export function requestActor(request: FastifyRequest): Pick<AuditInput, "actor" | "clientAddress"> {
  return { actor: actors.get(request) ?? { kind: "anonymous" }, clientAddress: request.ip };
}

export type AuditRecord = Omit<AuditInput, "actor" | "clientAddress">;

/** Runs `change` and appends what `describe` says about its result, in one transaction. */
export async function audited<T>(
  pool: pg.Pool,
  request: FastifyRequest,
  change: (db: pg.PoolClient) => Promise<T>,
  describe: (result: T) => AuditRecord,
): Promise<T> {
  return inTransaction(pool, async (db) => {
    const result = await change(db);
    await appendAudit(db, { ...requestActor(request), ...describe(result) });
    return result;
  });
}

/** A URL for the log without its credentials (clone URLs may carry a token). */
export function withoutCredentials(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/i, "$1***@");
}
