// What a job that deploys to an environment receives, and how the orchestrator holds it back.
// environmentContexts: the environment's own secrets and variables (that level only), read from
// the store when the job is queued. environmentPrepare is the first half of the queue executor's
// `prepare` hook: it lays them over the job's `secrets` and `vars` contexts (the environment wins,
// as on GitHub), and the second half (job-secrets.ts) seals the secrets under the run's key before
// it is stored. Only the environment level is added: a job of a called (reusable) workflow has
// only the secrets its caller passed, and naming an environment must not give it the caller's
// organization and repository secrets (GitHub adds the environment's, nothing more).
// environmentGate is its `gate` hook: the environment's rules (src/environments/gate.ts).
import type pg from "pg";
import type { Logger } from "pino";
import { evaluateGate, type GateOutcome } from "../environments/index.js";
import type { InstanceRequest } from "../planner/index.js";
import type { JobDescription } from "../runner/types.js";
import { environmentSecrets, environmentVars, type Kms } from "../secrets/index.js";

export interface EnvironmentScope {
  organizationId: number;
  repositoryId: number;
  /** The job's environment (any case). */
  environment: string;
}

/** The secrets and variables of the environment itself (decrypted: never log them). */
export async function environmentContexts(
  db: pg.Pool | pg.PoolClient,
  kms: Kms,
  s: EnvironmentScope,
): Promise<{ secrets: Record<string, string>; vars: Record<string, string> }> {
  return { secrets: await environmentSecrets(db, kms, s), vars: await environmentVars(db, s) };
}

/** The queue executor's `prepare`: a job with an environment gets its secrets and variables. */
export function environmentPrepare(
  db: pg.Pool,
  kms: Kms | undefined,
  repo: { organizationId: number; repositoryId: number },
): (req: InstanceRequest) => Promise<JobDescription> {
  return async (req) => {
    const desc = req.description;
    if (!desc.environment) return desc;
    const scope = { ...repo, environment: desc.environment.name };
    // Without a KMS (no secret store) only variables can be read.
    const c = kms
      ? await environmentContexts(db, kms, scope)
      : { secrets: {}, vars: await environmentVars(db, scope) };
    return {
      ...desc,
      contexts: {
        ...desc.contexts,
        secrets: { ...desc.contexts.secrets, ...c.secrets },
        vars: { ...desc.contexts.vars, ...c.vars },
      },
    };
  };
}

/** The queue executor's `gate`: applies the rules; a job failed by them ends at once. */
export function environmentGate(
  pool: pg.Pool,
  logger: Logger,
  ended: (jobId: number) => void,
): (jobId: number) => Promise<void> {
  return async (jobId) => {
    const out: GateOutcome = await evaluateGate(pool, jobId);
    if (out.kind === "failed") {
      logger.info({ jobId, error: out.error }, "job refused by its environment's rules");
      ended(jobId);
    }
  };
}
