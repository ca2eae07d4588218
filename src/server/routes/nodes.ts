// /api/v1/nodes: list, drain/enable, worker trust and operator, clear a mismatch flag, revoke, re-issue the credential of and remove nodes, and the one-time registration tokens
// that add them (a token is shown once; the node is created when its agent exchanges the token at
// POST /api/v1/agent/register). Every change is recorded in the audit log, never with a token.
import type { FastifyInstance } from "fastify";
import {
  clearNodeFlag,
  deleteNode,
  getNode,
  listNodes,
  setNodeEnabled,
  setNodeWorker,
  type ListedNode,
} from "../../orchestrator/catalog/index.js";
import {
  createRegistration,
  listRegistrations,
  revokeNode,
  resetNodeCredential,
  revokeRegistration,
} from "../../orchestrator/node-auth/index.js";
import { audited, requestActor } from "../actor.js";
import type { RouteContext } from "../deps.js";
import {
  CreateNodeRegistration,
  IdParams,
  registrationView,
  SetNodeWorker,
  type NewNodeRegistration,
  type ReissuedNodeCredential,
} from "../schemas.js";
import { validate } from "../validate.js";

export function nodeRoutes(app: FastifyInstance, ctx: RouteContext): void {
  // `draining` is the agent's own graceful stop (held by the hub, not the database): not placeable.
  app.get("/nodes", async (): Promise<ListedNode[]> =>
    (await listNodes(ctx.pool)).map((n) => ({ ...n, draining: n.connected && ctx.agents.isDraining(n.id) })),
  );

  app.get("/nodes/registrations", async () => (await listRegistrations(ctx.pool)).map(registrationView));

  app.post("/nodes/registrations", async (request, reply) => {
    const { body } = validate(request, { body: CreateNodeRegistration });
    const { actor } = requestActor(request);
    const made = await audited(
      ctx.pool,
      request,
      (db) =>
        createRegistration(db, {
          ...body,
          createdBy: actor.kind === "user" && typeof actor.id === "number" ? actor.id : null,
        }),
      ({ registration: r }) => ({
        action: "node.registration_created",
        object: { kind: "node_registration", id: r.id },
        details: {
          name: r.name,
          labels: r.labels,
          requiredLabels: r.requiredLabels,
          workerTrust: r.workerTrust,
          operator: r.operator,
          expiresAt: r.expiresAt,
        },
      }),
    );
    const answer: NewNodeRegistration = { ...registrationView(made.registration), token: made.token };
    return reply.status(201).send(answer);
  });

  app.delete("/nodes/registrations/:id", async (request, reply) => {
    const { params } = validate(request, { params: IdParams });
    await audited(
      ctx.pool,
      request,
      (db) => revokeRegistration(db, params.id),
      (r) => ({
        action: "node.registration_revoked",
        object: { kind: "node_registration", id: r.id },
        details: { name: r.name },
      }),
    );
    return reply.status(204).send();
  });

  app.put("/nodes/:id/worker", async (request) => {
    const { params, body } = validate(request, { params: IdParams, body: SetNodeWorker });
    return audited(
      ctx.pool,
      request,
      (db) => setNodeWorker(db, params.id, body),
      (n) => ({
        action: "node.worker_set",
        object: { kind: "node", id: n.id },
        details: { name: n.name, workerTrust: n.workerTrust, operator: n.operator },
      }),
    );
  });

  app.delete("/nodes/:id/flag", async (request) => {
    const { params } = validate(request, { params: IdParams });
    return audited(
      ctx.pool,
      request,
      (db) => clearNodeFlag(db, params.id),
      (n) => ({ action: "node.unflagged", object: { kind: "node", id: n.id }, details: { name: n.name } }),
    );
  });

  app.post("/nodes/:id/revoke", async (request) => {
    const { params } = validate(request, { params: IdParams });
    const node = await audited(
      ctx.pool,
      request,
      (db) => revokeNode(db, params.id),
      (n) => ({ action: "node.revoked", object: { kind: "node", id: n.id }, details: { name: n.name } }),
    );
    // Its credentials are gone: the open connection, if any, goes now, not at its next reconnect.
    ctx.agents.disconnect(params.id, "node revoked");
    return node;
  });

  // A new credential for a node whose credential leaked or was lost: every one it had dies, the
  // agent holding one is disconnected now, and the node keeps its identity (name, labels, pool,
  // history). The credential is answered once and never recorded.
  app.post("/nodes/:id/credential", async (request, reply) => {
    const { params } = validate(request, { params: IdParams });
    const made = await audited(
      ctx.pool,
      request,
      async (db) => {
        const node = await getNode(db, params.id);
        return { node, credential: await resetNodeCredential(db, node.id) };
      },
      ({ node: n }) => ({
        action: "node.credential_reissued",
        object: { kind: "node", id: n.id },
        details: { name: n.name },
      }),
    );
    ctx.agents.disconnect(params.id, "node credential reissued");
    const answer: ReissuedNodeCredential = {
      nodeId: made.node.id,
      name: made.node.name,
      credential: made.credential,
    };
    return reply.status(201).send(answer);
  });

  app.post("/nodes/:id/disable", async (request) => {
    const { params } = validate(request, { params: IdParams });
    return audited(
      ctx.pool,
      request,
      (db) => setNodeEnabled(db, params.id, false),
      (n) => ({ action: "node.disabled", object: { kind: "node", id: n.id }, details: { name: n.name } }),
    );
  });

  app.post("/nodes/:id/enable", async (request) => {
    const { params } = validate(request, { params: IdParams });
    return audited(
      ctx.pool,
      request,
      (db) => setNodeEnabled(db, params.id, true),
      (n) => ({ action: "node.enabled", object: { kind: "node", id: n.id }, details: { name: n.name } }),
    );
  });

  app.delete("/nodes/:id", async (request, reply) => {
    const { params } = validate(request, { params: IdParams });
    await audited(
      ctx.pool,
      request,
      async (db) => {
        const node = await getNode(db, params.id);
        await deleteNode(db, params.id);
        return node;
      },
      (n) => ({ action: "node.deleted", object: { kind: "node", id: n.id }, details: { name: n.name } }),
    );
    ctx.agents.disconnect(params.id); // its credential is gone too: an open connection must not linger
    return reply.status(204).send();
  });
}
