// The OpenAPI operations of pools, authorizations and a node's administrator-given labels and
// pool (docs/security.md "Pools and authorizations"); shapes generated from schemas-pools.ts.
import { arr, ref, responseSchema, type Json, type Operation } from "./openapi-parts.js";
import * as S from "./schemas.js";
import * as P from "./schemas-pools.js";

export const POOL_SCHEMAS: Record<string, Json> = {
  Pool: responseSchema(P.PoolView),
  Authorization: responseSchema(P.AuthorizationView),
};

const auth = ref("Authorization");

export const POOL_OPERATIONS: Operation[] = [
  {
    method: "get",
    path: "/api/v1/pools",
    summary: "List pools with their trust tier, group, openness, deploy flag and node count",
    ok: [200, arr(ref("Pool"))],
  },
  {
    method: "post",
    path: "/api/v1/pools",
    summary:
      "Add a pool (trust low or high; closed unless open: every repository then needs an authorization; deploy: a deploy pool, high trust only, else 400 POOL_INVALID)",
    body: P.CreatePool,
    ok: [201, ref("Pool")],
    errors: [400, 409],
  },
  {
    method: "put",
    path: "/api/v1/pools/:name/group",
    summary: "Put a pool in a group (null: none); authorizations for the group cover it",
    params: P.PoolParams,
    body: P.SetPoolGroup,
    ok: [200, ref("Pool")],
    errors: [400, 404],
  },
  {
    method: "put",
    path: "/api/v1/pools/:name/deploy",
    summary:
      "Mark a pool as a deploy pool or not: its jobs consume only artifacts the promotion gate allows and are not placed there while their run's rebuilds are under way (high-trust pools only: 400 POOL_INVALID)",
    params: P.PoolParams,
    body: P.SetPoolDeploy,
    ok: [200, ref("Pool")],
    errors: [400, 404],
  },
  {
    method: "delete",
    path: "/api/v1/pools/:name",
    summary: "Remove an empty pool (never `default`)",
    params: P.PoolParams,
    ok: [204, "Removed"],
    errors: [404, 409],
  },
  {
    method: "get",
    path: "/api/v1/authorizations",
    summary: "List authorizations (which repository may use which closed pool or pool group)",
    query: P.AuthorizationsQuery,
    ok: [200, arr(auth)],
  },
  {
    method: "post",
    path: "/api/v1/authorizations",
    summary: "Grant a repository a pool or a pool group (approved at once)",
    body: P.GrantAuthorization,
    ok: [201, auth],
    errors: [400, 404],
  },
  {
    method: "post",
    path: "/api/v1/authorizations/:id/approve",
    summary:
      "Approve a requested (or revoked) authorization; the repository's waiting jobs may then use the pool",
    params: S.IdParams,
    ok: [200, auth],
    errors: [404],
  },
  {
    method: "post",
    path: "/api/v1/authorizations/:id/revoke",
    summary:
      "Revoke an authorization: no new machines for the repository in the pool(s) from now on; with cancelRunning, its running jobs there are cancelled too",
    params: S.IdParams,
    body: P.RevokeAuthorization,
    ok: [200, auth],
    errors: [400, 404],
  },
  {
    method: "get",
    path: "/api/v1/repositories/:id/authorizations",
    summary: "The repository's pool authorizations (repository admins)",
    params: S.IdParams,
    ok: [200, arr(auth)],
    errors: [404],
  },
  {
    method: "put",
    path: "/api/v1/nodes/:id/labels",
    summary:
      "Set a node's labels (and required labels): the only source of node labels; agents cannot add any",
    params: S.IdParams,
    body: P.SetNodeLabels,
    ok: [200, ref("Node")],
    errors: [400, 404],
  },
  {
    method: "put",
    path: "/api/v1/nodes/:id/pool",
    summary: "Move a node to another pool (a node that ran low-trust work stays tainted)",
    params: S.IdParams,
    body: P.SetNodePool,
    ok: [200, ref("Node")],
    errors: [400, 404],
  },
];
