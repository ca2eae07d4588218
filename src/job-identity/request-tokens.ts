// Request tokens: what a job attempt presents to ask for an identity token (the job sees it as
// ACTIONS_ID_TOKEN_REQUEST_TOKEN; the agent forwards it). Minted by the dispatcher in the
// transaction that assigns the attempt, only for jobs whose permissions grant `id-token: write`,
// and sent in `assign`. 256 random bits; only the SHA-256 is stored. It works only while its job is
// assigned or running in that very attempt and not being cancelled: when the attempt ends
// (completed, lost, requeued for another attempt) or its cancellation is asked for, the same token
// gets 401.
import { createHash, randomBytes } from "node:crypto";
import type { JobDescription } from "../runner/types.js";
import { mayRequestIdToken } from "../workflow/index.js";
import type { Db } from "./db.js";

export const REQUEST_TOKEN_PREFIX = "alk_idt_";

const sha256 = (token: string): Buffer => createHash("sha256").update(token, "utf8").digest();

/**
 * Request tokens for the assigned attempts that may ask for an identity token (by job id), stored
 * hashed with the caller's client (the assignment's transaction).
 */
export async function mintRequestTokens(
  db: Db,
  assigned: ReadonlyArray<{ jobId: number; attempt: number; description: JobDescription | null }>,
): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  const entitled = assigned.filter((a) => mayRequestIdToken(a.description?.permissions));
  if (entitled.length === 0) return out;
  const tokens = entitled.map(() => REQUEST_TOKEN_PREFIX + randomBytes(32).toString("base64url"));
  await db.query(
    `INSERT INTO job_request_tokens (job_id, attempt, token_sha256)
     SELECT * FROM unnest($1::bigint[], $2::int[], $3::bytea[])
     ON CONFLICT (job_id, attempt) DO UPDATE SET token_sha256 = EXCLUDED.token_sha256, created_at = now()`,
    [entitled.map((a) => a.jobId), entitled.map((a) => a.attempt), tokens.map(sha256)],
  );
  entitled.forEach((a, i) => out.set(a.jobId, tokens[i]!));
  return out;
}

/**
 * The job attempt a request token stands for, while that attempt is live (assigned or running, no
 * cancellation asked for: as the secret release, src/secrets/release.ts); else undefined.
 */
export async function liveAttemptOf(
  db: Db,
  token: string,
): Promise<{ jobId: number; attempt: number } | undefined> {
  if (!token.startsWith(REQUEST_TOKEN_PREFIX) || token.length > 100) return undefined;
  const { rows } = await db.query<{ job_id: string; attempt: number }>(
    `SELECT t.job_id, t.attempt FROM job_request_tokens t JOIN jobs j ON j.id = t.job_id
      WHERE t.token_sha256 = $1 AND j.attempt = t.attempt AND j.state IN ('assigned', 'running')
        AND NOT j.cancel_requested`,
    [sha256(token)],
  );
  const r = rows[0];
  return r ? { jobId: Number(r.job_id), attempt: r.attempt } : undefined;
}
