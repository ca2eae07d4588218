// Issuing one identity token: the request token names a live job attempt, the attempt's facts make
// the claims, the organization's signing key signs them. Expiry: an hour at most, and never past
// the attempt's deadline (its start plus its timeout). Each token is recorded in the audit log
// (`job.id_token_issued`: job, attempt, audience, subject, jti, kid; never the token). A job
// attempt gets at most MAX_TOKENS_PER_ATTEMPT tokens (counted in job_request_tokens.issued, before
// anything is signed): a job looping on the endpoint costs a bounded number of signatures and
// audit rows, then gets RATE_LIMITED (429).
import { randomUUID } from "node:crypto";
import { SignJWT } from "jose";
import { appendAudit } from "../audit/index.js";
import { AirlockError, ErrorCode } from "../errors/index.js";
import type { Kms } from "../secrets/index.js";
import { jobClaims, jobFacts, subjectOf } from "./claims.js";
import { inTransaction, type Db } from "./db.js";
import { issuerOf } from "./discovery.js";
import { ALG, MAX_TOKEN_SECONDS, noteExpiry, signingKey } from "./keys.js";
import { liveAttemptOf } from "./request-tokens.js";

export interface IssueOptions {
  /** The orchestrator's public URL (issuers live under it). */
  publicUrl: string;
  /** How long a signing key signs before the next one (ServerConfig.idTokenKeyDays). */
  keyDays: number;
  /** The clock (tests). */
  now?: () => Date;
  /** Tokens per job attempt (default MAX_TOKENS_PER_ATTEMPT). */
  maxTokens?: number;
}

/** Identity tokens one job attempt may be issued: plenty for many audiences and refreshes. */
export const MAX_TOKENS_PER_ATTEMPT = 50;

/** At most this long, printable, no spaces: what a trust policy can match. */
const AUDIENCE = /^[\x21-\x7e]{1,256}$/;

function refused(why: string): AirlockError {
  return new AirlockError(ErrorCode.UNAUTHORIZED, `identity token refused: ${why}`);
}

/** Signs an identity token for the job attempt `requestToken` stands for. UNAUTHORIZED when it is dead. */
export async function issueIdToken(
  db: Db,
  kms: Kms,
  o: IssueOptions,
  requestToken: string,
  audience: string | undefined,
): Promise<{ value: string; exp: number }> {
  if (audience !== undefined && !AUDIENCE.test(audience))
    throw new AirlockError(ErrorCode.USAGE, "audience must be 1-256 printable characters without spaces");
  const live = await liveAttemptOf(db, requestToken);
  if (!live) throw refused("the request token is unknown or its job attempt has ended");
  const facts = await jobFacts(db, live.jobId);
  if (!facts || facts.attempt !== live.attempt) throw refused("the job attempt has ended");
  const now = Math.floor((o.now?.() ?? new Date()).getTime() / 1000);
  const exp = Math.min(now + MAX_TOKEN_SECONDS, Math.floor(facts.deadline.getTime() / 1000));
  if (exp <= now) throw refused("the job attempt is past its timeout");
  const max = o.maxTokens ?? MAX_TOKENS_PER_ATTEMPT;
  const counted = await db.query(
    `UPDATE job_request_tokens SET issued = issued + 1 WHERE job_id = $1 AND attempt = $2 AND issued < $3`,
    [live.jobId, live.attempt, max],
  );
  if (!counted.rowCount)
    throw new AirlockError(
      ErrorCode.RATE_LIMITED,
      `identity token refused: job ${live.jobId} attempt ${live.attempt} has had its ${max} tokens`,
    );
  const issuer = issuerOf(o.publicUrl, facts.organization.name);
  const aud = audience ?? issuer;
  const key = await signingKey(db, kms, facts.organization.id, o.keyDays);
  const jti = randomUUID();
  const sub = subjectOf(facts);
  const value = await new SignJWT(jobClaims(facts))
    .setProtectedHeader({ alg: ALG, kid: key.kid, typ: "JWT" })
    .setIssuer(issuer)
    .setSubject(sub)
    .setAudience(aud)
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(exp)
    .setJti(jti)
    .sign(key.key);
  await inTransaction(db, async (c) => {
    await noteExpiry(c, key.id, new Date(exp * 1000));
    await appendAudit(c, {
      actor: {
        kind: "job",
        id: `${facts.jobId}:${facts.attempt}`,
        display: `job ${facts.jobId} attempt ${facts.attempt}`,
      },
      action: "job.id_token_issued",
      object: { kind: "job", id: String(facts.jobId) },
      clientAddress: null,
      details: { attempt: facts.attempt, audience: aud, subject: sub, jti, kid: key.kid, exp },
    });
  });
  return { value, exp };
}
