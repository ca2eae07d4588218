// Delivery of a run's secrets to the live job only (issue 8, item 4). The job description a node
// receives holds the secrets its job references sealed under the run DEK (run-keys.ts), never in
// clear. With the assignment comes a one-time release token, minted here per job attempt (only its
// SHA-256 is stored, migration 017). Once the node has created the attempt's machine (or chosen
// its id, just before pulling a job container image whose credentials read secrets) it presents
// the token with the machine's id and gets the run DEK unwrapped — once: the first redemption
// binds the token to that machine and uses it up, so a second machine (or the same one again) is
// refused, and so is every redemption once the attempt is no longer assigned or running (finished,
// cancelled, its lease expired and the job retried as a new attempt).
import { createHash, randomBytes } from "node:crypto";
import { AirlockError, ErrorCode } from "../errors/index.js";
import type { Kms } from "./kms/index.js";
import { openRunKey, type RunKeyBinding } from "./run-keys.js";
import { inTransaction, type Db } from "./scope.js";

export const RELEASE_TOKEN_PREFIX = "alk_rel_";
/**
 * The name a job's clone credential is sealed under with the run DEK (JobDescription.sealedSource):
 * lower case with a dash, so no secret (upper-case identifiers) can ever share its binding.
 */
export const SOURCE_CREDENTIAL_NAME = "source-credential";
/** Machine ids are the provisioner's (sandbox names, container ids, VM names): short printable text. */
const MACHINE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

function hash(token: string): Buffer {
  return createHash("sha256").update(token, "utf8").digest();
}

/**
 * Mints one release token per job attempt (replacing an earlier one of the same attempt, which
 * dies). Returns the tokens by job id; they are shown to the attempt's node only.
 */
export async function issueReleaseTokens(
  db: Db,
  attempts: ReadonlyArray<{ jobId: number; attempt: number }>,
): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  if (attempts.length === 0) return out;
  for (const a of attempts) out.set(a.jobId, RELEASE_TOKEN_PREFIX + randomBytes(32).toString("base64url"));
  await db.query(
    `INSERT INTO job_secret_releases (job_id, attempt, token_hash)
     SELECT * FROM unnest($1::bigint[], $2::int[], $3::bytea[])
     ON CONFLICT (job_id, attempt) DO UPDATE SET token_hash = EXCLUDED.token_hash, machine = NULL,
       redeemed_at = NULL, created_at = now()`,
    [
      attempts.map((a) => a.jobId),
      attempts.map((a) => a.attempt),
      attempts.map((a) => hash(out.get(a.jobId)!)),
    ],
  );
  return out;
}

export interface Release {
  jobId: number;
  attempt: number;
  /** The node the attempt is assigned to. */
  nodeId: number | null;
  /** The run DEK (the caller sends it and wipes it). */
  key: Buffer;
  binding: RunKeyBinding;
}

const REFUSED =
  "the release token is not valid (unknown, already used, for another node, or its job attempt is not running)";

/**
 * Redeems a release token for a machine: the run DEK of the token's job attempt, once. Every
 * refusal is the same UNAUTHORIZED line (which of the reasons applies is not told to the caller).
 */
export async function redeemRelease(
  db: Db,
  kms: Kms,
  token: string,
  machine: string,
  /** The node presenting it (authenticated by its credential): it must be the attempt's. */
  nodeId: number,
): Promise<Release> {
  if (!token.startsWith(RELEASE_TOKEN_PREFIX) || token.length > 200)
    throw new AirlockError(ErrorCode.UNAUTHORIZED, REFUSED);
  if (!MACHINE_ID.test(machine))
    throw new AirlockError(ErrorCode.USAGE, "machine: expected the machine's id (letters, digits, . _ : -)");
  const found = await inTransaction(db, async (c) => {
    const { rows } = await c.query<{
      job_id: string;
      attempt: number;
      run_id: string;
      node_id: string | null;
    }>(
      `UPDATE job_secret_releases r SET machine = $2, redeemed_at = now()
         FROM jobs j
        WHERE r.token_hash = $1 AND r.redeemed_at IS NULL
          AND j.id = r.job_id AND j.attempt = r.attempt AND j.state IN ('assigned', 'running')
          AND NOT j.cancel_requested AND j.node_id = $3
       RETURNING r.job_id, r.attempt, j.run_id, j.node_id`,
      [hash(token), machine, nodeId],
    );
    return rows[0];
  });
  if (!found) throw new AirlockError(ErrorCode.UNAUTHORIZED, REFUSED);
  const key = await openRunKey(db, kms, Number(found.run_id));
  try {
    return {
      jobId: Number(found.job_id),
      attempt: found.attempt,
      nodeId: found.node_id === null ? null : Number(found.node_id),
      key: key.exportKey(),
      binding: key.binding,
    };
  } finally {
    key.close();
  }
}
