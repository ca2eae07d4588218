// /api/v1/pools, /api/v1/authorizations and a node's labels and pool (docs/security.md "Pools and
// authorizations"): server administrators manage pools and decide which repository may use which
// closed pool; a repository admin may read the repository's authorizations. Every change is in
// the audit log; each one wakes the dispatcher, so a revocation stops new machines at once.
import type { FastifyInstance, FastifyRequest } from "fastify";
import {
  approveAuthorization,
  createPool,
  deletePool,
  getAuthorization,
  grantAuthorization,
  jobsUnder,
  listAuthorizations,
  listPools,
  revokeAuthorization,
  setNodeLabels,
  setNodePool,
  setPoolDeploy,
  setPoolGroup,
  type Authorization,
} from "../../orchestrator/pools/index.js";
import { audited, requestActor } from "../actor.js";
import type { RouteContext } from "../deps.js";
import { IdParams } from "../schemas.js";
import * as S from "../schemas-pools.js";
import { validate } from "../validate.js";

/** Who decided, as the authorization records it. */
function decider(request: FastifyRequest): string {
  const { actor } = requestActor(request);
  return actor.display ?? actor.kind;
}

const authDetails = (a: Authorization): Record<string, unknown> => ({
  repository: a.repository,
  pool: a.pool,
  group: a.group,
  state: a.state,
});

export function poolRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const changed = <T>(x: T): T => {
    ctx.runs.placementChanged();
    return x;
  };

  app.get("/pools", async () => listPools(ctx.pool));

  app.post("/pools", async (request, reply) => {
    const { body } = validate(request, { body: S.CreatePool });
    const pool = await audited(
      ctx.pool,
      request,
      (db) => createPool(db, body),
      (p) => ({ action: "pool.created", object: { kind: "pool", id: p.id }, details: { ...p } }),
    );
    return reply.status(201).send(changed(pool));
  });

  app.put("/pools/:name/group", async (request) => {
    const { params, body } = validate(request, { params: S.PoolParams, body: S.SetPoolGroup });
    const pool = await audited(
      ctx.pool,
      request,
      (db) => setPoolGroup(db, params.name, body.group),
      (p) => ({ action: "pool.group_set", object: { kind: "pool", id: p.id }, details: { group: p.group } }),
    );
    return changed(pool);
  });

  app.put("/pools/:name/deploy", async (request) => {
    const { params, body } = validate(request, { params: S.PoolParams, body: S.SetPoolDeploy });
    const pool = await audited(
      ctx.pool,
      request,
      (db) => setPoolDeploy(db, params.name, body.deploy),
      (p) => ({
        action: "pool.deploy_set",
        object: { kind: "pool", id: p.id },
        details: { name: p.name, deploy: p.deploy },
      }),
    );
    return changed(pool);
  });

  app.delete("/pools/:name", async (request, reply) => {
    const { params } = validate(request, { params: S.PoolParams });
    await audited(
      ctx.pool,
      request,
      (db) => deletePool(db, params.name),
      (p) => ({ action: "pool.deleted", object: { kind: "pool", id: p.id }, details: { name: p.name } }),
    );
    return reply.status(204).send(changed(undefined));
  });

  app.get("/authorizations", async (request) => {
    const { query } = validate(request, { query: S.AuthorizationsQuery });
    return listAuthorizations(ctx.pool, {
      ...(query.repository !== undefined ? { repositoryId: query.repository } : {}),
      ...(query.state ? { state: query.state } : {}),
    });
  });

  app.get("/repositories/:id/authorizations", async (request) => {
    const { params } = validate(request, { params: IdParams });
    return listAuthorizations(ctx.pool, { repositoryId: params.id });
  });

  app.post("/authorizations", async (request, reply) => {
    const { body } = validate(request, { body: S.GrantAuthorization });
    const by = decider(request);
    const a = await audited(
      ctx.pool,
      request,
      (db) =>
        grantAuthorization(
          db,
          {
            repositoryId: body.repository,
            ...(body.pool ? { pool: body.pool } : {}),
            ...(body.group ? { group: body.group } : {}),
          },
          by,
        ),
      (x) => ({
        action: "authorization.approved",
        object: { kind: "authorization", id: x.id },
        details: authDetails(x),
      }),
    );
    return reply.status(201).send(changed(a));
  });

  app.post("/authorizations/:id/approve", async (request) => {
    const { params } = validate(request, { params: IdParams });
    const by = decider(request);
    const a = await audited(
      ctx.pool,
      request,
      (db) => approveAuthorization(db, params.id, by),
      (x) => ({
        action: "authorization.approved",
        object: { kind: "authorization", id: x.id },
        details: authDetails(x),
      }),
    );
    return changed(a);
  });

  app.post("/authorizations/:id/revoke", async (request) => {
    const { params, body } = validate(request, { params: IdParams, body: S.RevokeAuthorization });
    const by = decider(request);
    await getAuthorization(ctx.pool, params.id); // NOT_FOUND before anything is recorded
    const { a, cancelled } = await audited(
      ctx.pool,
      request,
      async (db) => {
        const a = await revokeAuthorization(db, params.id, by);
        return { a, cancelled: body.cancelRunning ? await jobsUnder(db, a) : [] };
      },
      (x) => ({
        action: "authorization.revoked",
        object: { kind: "authorization", id: x.a.id },
        details: {
          ...authDetails(x.a),
          cancelRunning: body.cancelRunning ?? false,
          cancelledJobs: x.cancelled,
        },
      }),
    );
    // Committed first: the dispatcher, woken now, no longer places the repository's jobs there.
    ctx.runs.placementChanged();
    await ctx.runs.cancelJobs(cancelled);
    return { ...a, cancelledJobs: cancelled };
  });

  app.put("/nodes/:id/labels", async (request) => {
    const { params, body } = validate(request, { params: IdParams, body: S.SetNodeLabels });
    const node = await audited(
      ctx.pool,
      request,
      (db) => setNodeLabels(db, params.id, body.labels, body.requiredLabels),
      (n) => ({
        action: "node.labels_set",
        object: { kind: "node", id: n.id },
        details: { name: n.name, labels: n.labels, requiredLabels: n.requiredLabels },
      }),
    );
    return changed(node);
  });

  app.put("/nodes/:id/pool", async (request) => {
    const { params, body } = validate(request, { params: IdParams, body: S.SetNodePool });
    const node = await audited(
      ctx.pool,
      request,
      (db) => setNodePool(db, params.id, body.pool),
      (n) => ({
        action: "node.pool_set",
        object: { kind: "node", id: n.id },
        details: { name: n.name, pool: n.pool },
      }),
    );
    return changed(node);
  });
}
