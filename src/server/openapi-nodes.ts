// The OpenAPI operations of nodes and their agents: listing and draining nodes, one-time
// registration tokens, revocation, the exchange of a registration token for a node's first
// credential, and the agents' WebSocket. Response shapes are generated from the zod schemas the
// routes answer with (src/server/schemas.ts, src/protocol/agent.ts).
import { Registered, Released, ReleaseRequest } from "../protocol/agent.js";
import { arr, ref, responseSchema, type Json, type Operation } from "./openapi-parts.js";
import * as S from "./schemas.js";

export const NODE_SCHEMAS: Record<string, Json> = {
  NodeRegistration: responseSchema(S.NodeRegistrationView),
  NewNodeRegistration: responseSchema(S.NewNodeRegistrationView),
  ReissuedNodeCredential: responseSchema(S.ReissuedNodeCredentialView),
  AgentRegistered: responseSchema(Registered),
  AgentReleased: responseSchema(Released),
};

export const NODE_OPERATIONS: Operation[] = [
  { method: "get", path: "/api/v1/nodes", summary: "List nodes", ok: [200, arr(ref("ListedNode"))] },
  {
    method: "post",
    path: "/api/v1/nodes/registrations",
    summary:
      "Make a one-time registration token for a node (shown once; expires in expiresInMinutes, default 60, at most 7 days); the node is created when its agent exchanges it",
    body: S.CreateNodeRegistration,
    ok: [201, ref("NewNodeRegistration")],
    errors: [400, 409],
  },
  {
    method: "get",
    path: "/api/v1/nodes/registrations",
    summary: "List registration tokens and their state (pending, used, expired, revoked); never the tokens",
    ok: [200, arr(ref("NodeRegistration"))],
  },
  {
    method: "delete",
    path: "/api/v1/nodes/registrations/:id",
    summary: "Revoke an unused registration token (refused once used: revoke the node instead)",
    params: S.IdParams,
    ok: [204, "Revoked"],
    errors: [404, 409],
  },
  {
    method: "post",
    path: "/api/v1/nodes/:id/revoke",
    summary:
      "Revoke a node: its credential stops working and its agent is disconnected at once; it stays listed and can never reconnect",
    params: S.IdParams,
    ok: [200, ref("Node")],
    errors: [404],
  },
  {
    method: "post",
    path: "/api/v1/nodes/:id/credential",
    summary:
      "Re-issue a node's credential (shown once): every credential it had stops working and its agent is disconnected at once; the node keeps its name, labels and pool (409 for a revoked node)",
    params: S.IdParams,
    ok: [201, ref("ReissuedNodeCredential")],
    errors: [404, 409],
  },
  {
    method: "put",
    path: "/api/v1/nodes/:id/worker",
    summary:
      "Say whether a node is this installation's own (trusted) or a third party's (untrusted) and who operates it (operator: null = this installation's); corroboration counts distinct operators",
    params: S.IdParams,
    body: S.SetNodeWorker,
    ok: [200, ref("Node")],
    errors: [400, 404],
  },
  {
    method: "delete",
    path: "/api/v1/nodes/:id/flag",
    summary:
      "Clear the flag set on a node when builds it took part in disagreed (an administrator has looked); audited as node.unflagged",
    params: S.IdParams,
    ok: [200, ref("Node")],
    errors: [404],
  },
  {
    method: "post",
    path: "/api/v1/nodes/:id/disable",
    summary: "Drain a node: no new machines, running ones finish",
    params: S.IdParams,
    ok: [200, ref("Node")],
    errors: [404],
  },
  {
    method: "post",
    path: "/api/v1/nodes/:id/enable",
    summary: "Enable a node",
    params: S.IdParams,
    ok: [200, ref("Node")],
    errors: [404],
  },
  {
    method: "delete",
    path: "/api/v1/nodes/:id",
    summary: "Remove a node and its credential (refused while it runs machines)",
    params: S.IdParams,
    ok: [204, "Removed"],
    errors: [404, 409],
  },
  {
    method: "post",
    path: "/api/v1/agent/register",
    summary:
      "A node agent exchanges its one-time registration token (Bearer alk_reg_…) for its node's first credential; 429 while the client is throttled",
    security: "registration",
    ok: [201, ref("AgentRegistered")],
    errors: [409, 429],
  },
  {
    method: "post",
    path: "/api/v1/agent/release",
    summary:
      "A node agent redeems a job attempt's one-time release token (body: token, machine) for the machine it created, getting the run key that opens the job's sealed secrets; only the attempt's node (Bearer <node credential>), once per token, only while the attempt is assigned or running (401 otherwise); 429 while the client is throttled",
    security: "node",
    body: ReleaseRequest,
    ok: [200, ref("AgentReleased")],
    errors: [400, 429],
  },
  {
    method: "get",
    path: "/api/v1/agent",
    summary:
      "Node agent WebSocket (upgrade with Bearer <node credential>; rotated on every connection); messages: src/protocol/agent.ts",
    security: "node",
    ok: [101, "Switching Protocols"],
    errors: [401, 426, 429],
  },
];
