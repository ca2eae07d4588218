// ACTIONS_RUNTIME_TOKEN: the bearer a job attempt presents to the artifact (and later cache)
// service. A JWT (HS256) signed with a key only the orchestrator holds; `@actions/artifact` decodes
// it without verifying and reads its `scp` claim `Actions.Results:<run backend id>:<job backend id>`
// (lib/internal/shared/util.js), so those ids go there. The signature proves the orchestrator minted
// it; every call also checks in the database that the attempt it names is still assigned or running,
// so the token dies with its attempt (finished, lost, requeued, retried elsewhere), whatever its exp;
// and that the attempt is still on the node it was minted for (defence in depth: an attempt
// number is never given to a second node — rejectJob does not reuse it — but a token must name
// the one node it was minted for all the same).
import { createHmac } from "node:crypto";
import { jwtVerify, SignJWT } from "jose";
import { AirlockError, ErrorCode } from "../errors/index.js";
import { jobFacts } from "../job-identity/index.js";
import { assignedNode } from "../queue/index.js";
import type { Db } from "./db.js";

export const TOKEN_ISSUER = "airlock";
export const TOKEN_AUDIENCE = "airlock-actions-results";
/** The longest a runtime token lives, whatever the job's timeout. */
export const MAX_RUNTIME_TOKEN_SECONDS = 24 * 3600;

/** The keys derived from the service's master key: one signs tokens, the other signs blob URLs. */
export interface ServiceKeys {
  token: Uint8Array;
  url: Buffer;
}

export function deriveKeys(master: Buffer): ServiceKeys {
  if (master.length < 32)
    throw new AirlockError(ErrorCode.CONFIG_INVALID, "the artifact service key must be at least 32 bytes");
  const sub = (label: string): Buffer => createHmac("sha256", master).update(label).digest();
  return { token: new Uint8Array(sub("airlock runtime token v1")), url: sub("airlock signed blob url v1") };
}

/** The job attempt behind a live runtime token, with what the artifact rows record. */
export interface Caller {
  jobId: number;
  attempt: number;
  runId: number;
  runAttempt: number;
  repositoryId: number;
  nodeId: number | null;
  trustTier: "trusted" | "untrusted";
  /**
   * The worker trust of the node the attempt was assigned to, as recorded at assignment (migration
   * 039; else the node's current value; no node: untrusted). Caches (migration 041): a job on a
   * trusted worker restores only trusted workers' entries.
   */
  workerTrust: "trusted" | "untrusted";
  runBackendId: string;
  jobBackendId: string;
  /** A replica (migration 038): the job it rebuilds; its uploads are kept apart. Absent: not one. */
  replicaOf?: number;
  /** A deployment's environment: it consumes only artifacts its repository's policy promotes. */
  environment?: string;
  /**
   * The deploy pool (migrations 040, 042) of the node the orchestrator assigned the attempt to, as
   * recorded at assignment or as the node's pool is now: such a job is gated like a deployment.
   * Absent: an ordinary pool (or no node).
   */
  deployPool?: string;
}

export const runBackendId = (runId: number): string => `run-${runId}`;
export const jobBackendId = (jobId: number): string => `job-${jobId}`;

// The deploy pool comes from the orchestrator, never from the job: the one recorded when the job was
// assigned (migration 042), or else its node's pool as it is now (a change only tightens the gate).
// So does the worker trust: recorded at assignment (migration 039), else the node's.
const LIVE = `
SELECT j.run_id, j.run_attempt, r.repository_id, j.node_id, r.trust_tier, j.replica_of, j.environment,
       coalesce(j.assigned_deploy_pool, CASE WHEN p.deploy THEN p.name END) AS deploy_pool,
       ${assignedNode("j").workerTrust} AS worker_trust
  FROM jobs j JOIN runs r ON r.id = j.run_id
  LEFT JOIN nodes n ON n.id = j.node_id LEFT JOIN pools p ON p.id = n.pool_id
 WHERE j.id = $1 AND j.attempt = $2 AND j.state IN ('assigned', 'running')`;

/** The caller for job attempt (jobId, attempt) while it is assigned or running; else undefined. */
export async function liveCaller(db: Db, jobId: number, attempt: number): Promise<Caller | undefined> {
  const { rows } = await db.query<{
    run_id: string;
    run_attempt: number;
    repository_id: string;
    node_id: string | null;
    trust_tier: string;
    replica_of: string | null;
    environment: string | null;
    deploy_pool: string | null;
    worker_trust: string | null;
  }>(LIVE, [jobId, attempt]);
  const r = rows[0];
  if (!r) return undefined;
  const runId = Number(r.run_id);
  return {
    jobId,
    attempt,
    runId,
    runAttempt: r.run_attempt,
    repositoryId: Number(r.repository_id),
    nodeId: r.node_id === null ? null : Number(r.node_id),
    trustTier: r.trust_tier === "trusted" ? "trusted" : "untrusted",
    workerTrust: r.worker_trust === "trusted" ? "trusted" : "untrusted",
    runBackendId: runBackendId(runId),
    jobBackendId: jobBackendId(jobId),
    ...(r.replica_of !== null ? { replicaOf: Number(r.replica_of) } : {}),
    ...(r.environment !== null ? { environment: r.environment } : {}),
    ...(r.deploy_pool !== null ? { deployPool: r.deploy_pool } : {}),
  };
}

const refused = (why: string): AirlockError =>
  new AirlockError(ErrorCode.UNAUTHORIZED, `runtime token refused: ${why}`);

/** Mints the runtime token of a live job attempt (at assignment). UNAUTHORIZED when it is not live. */
export async function mintRuntimeToken(
  db: Db,
  keys: ServiceKeys,
  jobId: number,
  attempt: number,
  now: Date = new Date(),
): Promise<string> {
  const caller = await liveCaller(db, jobId, attempt);
  const facts = await jobFacts(db, jobId);
  if (!caller || !facts) throw refused(`job ${jobId} attempt ${attempt} is not assigned or running`);
  if (caller.nodeId === null) throw refused(`job ${jobId} attempt ${attempt} is on no node`);
  const iat = Math.floor(now.getTime() / 1000);
  const exp = Math.min(iat + MAX_RUNTIME_TOKEN_SECONDS, Math.floor(facts.deadline.getTime() / 1000));
  return new SignJWT({
    scp: `Actions.Results:${caller.runBackendId}:${caller.jobBackendId}`,
    job_id: jobId,
    attempt,
    // The node it was assigned to: no other node's attempt ever accepts it.
    node: caller.nodeId,
  })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuer(TOKEN_ISSUER)
    .setAudience(TOKEN_AUDIENCE)
    .setSubject(`job:${jobId}:${attempt}`)
    .setIssuedAt(iat)
    .setExpirationTime(Math.max(exp, iat + 60))
    .sign(keys.token);
}

/** The live caller a runtime token stands for; UNAUTHORIZED (one line, no token) otherwise. */
export async function callerOf(db: Db, keys: ServiceKeys, token: string | undefined): Promise<Caller> {
  if (token === undefined || token.length > 4096) throw refused("a runtime token is required");
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, keys.token, {
      algorithms: ["HS256"],
      issuer: TOKEN_ISSUER,
      audience: TOKEN_AUDIENCE,
    }));
  } catch {
    throw refused("bad signature, expired or malformed");
  }
  const jobId = payload.job_id;
  const attempt = payload.attempt;
  if (!Number.isSafeInteger(jobId) || !Number.isSafeInteger(attempt)) throw refused("malformed claims");
  const caller = await liveCaller(db, jobId as number, attempt as number);
  if (!caller) throw refused("its job attempt has ended");
  if (payload.node === undefined)
    throw refused("it was minted before tokens named their node: re-run the job");
  if (caller.nodeId === null || payload.node !== caller.nodeId)
    throw refused("its job attempt was given to another node");
  return caller;
}

/**
 * The live caller behind a signed URL's grant: its attempt still assigned or running, on the node
 * it was assigned to when the URL was signed. Undefined otherwise.
 */
export async function grantCaller(
  db: Db,
  g: { jobId: number; attempt: number; nodeId: number },
): Promise<Caller | undefined> {
  const c = await liveCaller(db, g.jobId, g.attempt);
  return c && c.nodeId !== null && c.nodeId === g.nodeId ? c : undefined;
}
