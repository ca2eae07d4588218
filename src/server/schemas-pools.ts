// Zod schemas of the pools, authorizations and node placement routes (docs/security.md "Pools
// and authorizations"); the OpenAPI operations (openapi-pools.ts) are generated from them.
import { z } from "zod";
import { AUTHORIZATION_STATES, POOL_TRUSTS } from "../orchestrator/pools/index.js";

const label = z.string().min(1).max(200);
const labels = z.array(label).max(100);
const poolName = z
  .string()
  .min(1)
  .max(100)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.-]*$/,
    "letters, digits, '.', '_' and '-', starting with a letter or digit",
  );
const id = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);

export const PoolParams = z.object({ name: z.string().min(1).max(100) }).strict();

export const CreatePool = z
  .object({
    name: poolName,
    trust: z.enum(POOL_TRUSTS),
    group: poolName.nullable().optional(),
    /** Every repository may use it without an authorization (default false: closed). */
    open: z.boolean().optional(),
    /**
     * A deploy pool (default false; high trust only, else POOL_INVALID): its jobs consume only
     * artifacts the promotion gate allows and wait for their run's rebuilds.
     */
    deploy: z.boolean().optional(),
  })
  .strict();

export const SetPoolGroup = z.object({ group: poolName.nullable() }).strict();

/** PUT /pools/:name/deploy: mark a (high-trust) pool as a deploy pool, or not. */
export const SetPoolDeploy = z.object({ deploy: z.boolean() }).strict();

export const PoolView = z.object({
  id: z.number().int(),
  name: z.string(),
  trust: z.enum(POOL_TRUSTS),
  group: z.string().nullable(),
  open: z.boolean(),
  deploy: z.boolean(),
  nodes: z.number().int(),
  createdAt: z.string(),
});

export const AuthorizationView = z.object({
  id: z.number().int(),
  repositoryId: z.number().int(),
  repository: z.string(),
  pool: z.string().nullable(),
  group: z.string().nullable(),
  state: z.enum(AUTHORIZATION_STATES),
  requestedAt: z.string(),
  decidedBy: z.string().nullable(),
  decidedAt: z.string().nullable(),
});

export const AuthorizationsQuery = z
  .object({ repository: id.optional(), state: z.enum(AUTHORIZATION_STATES).optional() })
  .strict();

/** POST /authorizations: grant a repository a pool or a pool group (approved at once). */
export const GrantAuthorization = z
  .object({ repository: id, pool: poolName.optional(), group: poolName.optional() })
  .strict()
  .refine((b) => (b.pool === undefined) !== (b.group === undefined), "name either a pool or a group");

export const RevokeAuthorization = z
  .object({
    /** Also cancel the repository's jobs running in the pool(s) now. */
    cancelRunning: z.boolean().optional(),
  })
  .strict();

export const SetNodeLabels = z.object({ labels, requiredLabels: labels.optional() }).strict();
export const SetNodePool = z.object({ pool: poolName }).strict();
