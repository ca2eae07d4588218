// The permission every authenticated API route needs, in one table: the access hook enforces it,
// the OpenAPI document shows it (x-airlock-permission), and a test walks every route × role. A
// route under the authenticated scope that is missing here is refused to everyone (deny by
// default). `target` says where the object the permission is checked on comes from.
import type { Permission } from "../auth/index.js";

export type Target =
  | { kind: "repository" | "run" | "job"; param: string }
  | { kind: "organization"; param: string }
  /** The organization named by a body field (absent: "default"). */
  | { kind: "organization-in-body"; field: string };

export interface RouteAccess {
  permission: Permission;
  target?: Target;
}

const repo = (param = "id"): Target => ({ kind: "repository", param });
const run: Target = { kind: "run", param: "id" };
const job: Target = { kind: "job", param: "id" };
const org = (param = "name"): Target => ({ kind: "organization", param });

/** Reading and writing secrets, reading and writing variables. */
type ItemPermissions = [Permission, Permission, Permission, Permission];
const REPO_ITEMS: ItemPermissions = ["secrets.read", "secrets.write", "variables.read", "variables.write"];

/** The eight secrets and variables routes of one place (organization, repository, environment). */
function placeRoutes(base: string, target: Target, p: ItemPermissions): Record<string, RouteAccess> {
  const [secretsRead, secretsWrite, varsRead, varsWrite] = p;
  return {
    [`GET ${base}/secrets`]: { permission: secretsRead, target },
    [`GET ${base}/secrets/:secret`]: { permission: secretsRead, target },
    [`PUT ${base}/secrets/:secret`]: { permission: secretsWrite, target },
    [`DELETE ${base}/secrets/:secret`]: { permission: secretsWrite, target },
    [`GET ${base}/variables`]: { permission: varsRead, target },
    [`GET ${base}/variables/:variable`]: { permission: varsRead, target },
    [`PUT ${base}/variables/:variable`]: { permission: varsWrite, target },
    [`DELETE ${base}/variables/:variable`]: { permission: varsWrite, target },
  };
}

export const ROUTE_ACCESS: Readonly<Record<string, RouteAccess>> = {
  // Repositories
  "GET /api/v1/repositories": { permission: "repositories.list" },
  "POST /api/v1/repositories": {
    permission: "repository.create",
    target: { kind: "organization-in-body", field: "organization" },
  },
  "GET /api/v1/repositories/:id": { permission: "repository.read", target: repo() },
  "PATCH /api/v1/repositories/:id": { permission: "repository.edit", target: repo() },
  "PUT /api/v1/repositories/:id/egress": { permission: "repository.configure", target: repo() },
  // Where commit statuses go (the forge token itself is a credential, below).
  "GET /api/v1/repositories/:id/forge": { permission: "repository.read", target: repo() },
  // Artifact quota and promotion gate: read by who sees the repository, set by server administrators.
  "GET /api/v1/repositories/:id/artifact-policy": { permission: "repository.read", target: repo() },
  "PUT /api/v1/repositories/:id/artifact-policy": { permission: "server.configure" },
  "PUT /api/v1/repositories/:id/forge": { permission: "repository.configure", target: repo() },
  "DELETE /api/v1/repositories/:id": { permission: "repository.delete", target: repo() },
  "POST /api/v1/repositories/:id/runs": { permission: "runs.write", target: repo() },
  "POST /api/v1/repositories/:id/dispatches": { permission: "runs.write", target: repo() },
  // Job-source credentials (write-only, like secrets).
  "GET /api/v1/repositories/:id/credentials": { permission: "secrets.read", target: repo() },
  "PUT /api/v1/repositories/:id/credentials/:kind": { permission: "secrets.write", target: repo() },
  "DELETE /api/v1/repositories/:id/credentials/:kind": { permission: "secrets.write", target: repo() },
  "GET /api/v1/repositories/:id/members": { permission: "repository.members.read", target: repo() },
  "PUT /api/v1/repositories/:id/members/:user": { permission: "repository.members.write", target: repo() },
  "DELETE /api/v1/repositories/:id/members/:user": {
    permission: "repository.members.write",
    target: repo(),
  },
  // Runs, jobs, logs
  "GET /api/v1/runs": { permission: "runs.list" },
  "GET /api/v1/runs/:id": { permission: "runs.read", target: run },
  "GET /api/v1/runs/:id/artifacts": { permission: "runs.read", target: run },
  "GET /api/v1/runs/:id/artifacts/:artifact/download": { permission: "runs.read", target: run },
  "GET /api/v1/runs/:id/artifacts/:artifact/provenance": { permission: "runs.read", target: run },
  "GET /api/v1/runs/:id/mismatches": { permission: "runs.read", target: run },
  // Promotion: anyone who may act on the run asks; the repository's policy decides (promote.ts).
  "POST /api/v1/runs/:id/artifacts/:artifact/promote": { permission: "runs.write", target: run },
  "POST /api/v1/runs/:id/cancel": { permission: "runs.write", target: run },
  "POST /api/v1/runs/:id/rerun": { permission: "runs.write", target: run },
  "POST /api/v1/runs/:id/approve": { permission: "runs.approve", target: run },
  "POST /api/v1/runs/:id/reject": { permission: "runs.approve", target: run },
  "GET /api/v1/jobs/:id": { permission: "runs.read", target: job },
  "GET /api/v1/jobs/:id/logs": { permission: "runs.read", target: job },
  "GET /api/v1/jobs/:id/logs/stream": { permission: "runs.read", target: job },
  // For the web UI: the log as JSON pages, annotations, step summaries.
  "GET /api/v1/jobs/:id/log-chunks": { permission: "runs.read", target: job },
  "GET /api/v1/jobs/:id/summaries": { permission: "runs.read", target: job },
  "GET /api/v1/runs/:id/annotations": { permission: "runs.read", target: run },
  // The dashboard counts nodes and their capacity: server-wide facts, as GET /nodes.
  "GET /api/v1/dashboard": { permission: "nodes.read" },
  // Environments and their protection rules; deployments of a run waiting for review
  "GET /api/v1/repositories/:id/environments": { permission: "environments.read", target: repo() },
  "GET /api/v1/repositories/:id/environments/:env": { permission: "environments.read", target: repo() },
  "PUT /api/v1/repositories/:id/environments/:env": { permission: "environments.write", target: repo() },
  "DELETE /api/v1/repositories/:id/environments/:env": { permission: "environments.write", target: repo() },
  "GET /api/v1/runs/:id/deployments": { permission: "runs.read", target: run },
  "POST /api/v1/runs/:id/deployments": { permission: "deployments.review", target: run },
  // Organizations
  "GET /api/v1/organizations": { permission: "organizations.list" },
  "POST /api/v1/organizations": { permission: "server.configure" },
  "DELETE /api/v1/organizations/:name": { permission: "server.configure" },
  "GET /api/v1/organizations/:name": { permission: "organization.read", target: org() },
  "PUT /api/v1/organizations/:name/limit": { permission: "server.configure" },
  "PUT /api/v1/organizations/:name/settings": { permission: "organization.configure", target: org() },
  "GET /api/v1/organizations/:name/members": { permission: "organization.members.read", target: org() },
  "PUT /api/v1/organizations/:name/members/:user": {
    permission: "organization.members.write",
    target: org(),
  },
  "DELETE /api/v1/organizations/:name/members/:user": {
    permission: "organization.members.write",
    target: org(),
  },
  "GET /api/v1/organizations/:name/tokens": { permission: "organization.tokens", target: org() },
  "POST /api/v1/organizations/:name/tokens": { permission: "organization.tokens", target: org() },
  "DELETE /api/v1/organizations/:name/tokens/:id": { permission: "organization.tokens", target: org() },
  // Job identity tokens: a new signing key now (the old one stays published until its tokens expire).
  "POST /api/v1/organizations/:name/id-token-keys/rotate": {
    permission: "organization.configure",
    target: org(),
  },
  // Secrets and variables: an organization's, a repository's, a repository environment's.
  ...placeRoutes("/api/v1/organizations/:name", org(), [
    "organization.secrets.read",
    "organization.secrets.write",
    "organization.variables.read",
    "organization.variables.write",
  ]),
  ...placeRoutes("/api/v1/repositories/:id", repo(), REPO_ITEMS),
  ...placeRoutes("/api/v1/repositories/:id/environments/:env", repo(), REPO_ITEMS),
  // Catalog
  "GET /api/v1/images": { permission: "catalog.read" },
  "POST /api/v1/images": { permission: "server.configure" },
  "GET /api/v1/flavours": { permission: "catalog.read" },
  "POST /api/v1/flavours": { permission: "server.configure" },
  // Nodes
  "GET /api/v1/nodes": { permission: "nodes.read" },
  "GET /api/v1/nodes/registrations": { permission: "nodes.read" },
  "POST /api/v1/nodes/registrations": { permission: "nodes.write" },
  "DELETE /api/v1/nodes/registrations/:id": { permission: "nodes.write" },
  "POST /api/v1/nodes/:id/revoke": { permission: "nodes.write" },
  "POST /api/v1/nodes/:id/credential": { permission: "nodes.write" },
  "POST /api/v1/nodes/:id/disable": { permission: "nodes.write" },
  "POST /api/v1/nodes/:id/enable": { permission: "nodes.write" },
  "DELETE /api/v1/nodes/:id": { permission: "nodes.write" },
  // Pools and authorizations (server administration; a repository admin reads its own).
  "PUT /api/v1/nodes/:id/labels": { permission: "nodes.write" },
  "PUT /api/v1/nodes/:id/pool": { permission: "nodes.write" },
  "PUT /api/v1/nodes/:id/worker": { permission: "nodes.write" },
  "DELETE /api/v1/nodes/:id/flag": { permission: "nodes.write" },
  "GET /api/v1/pools": { permission: "nodes.read" },
  "POST /api/v1/pools": { permission: "nodes.write" },
  "PUT /api/v1/pools/:name/group": { permission: "nodes.write" },
  "PUT /api/v1/pools/:name/deploy": { permission: "nodes.write" },
  "DELETE /api/v1/pools/:name": { permission: "nodes.write" },
  "GET /api/v1/authorizations": { permission: "nodes.read" },
  "POST /api/v1/authorizations": { permission: "nodes.write" },
  "POST /api/v1/authorizations/:id/approve": { permission: "nodes.write" },
  "POST /api/v1/authorizations/:id/revoke": { permission: "nodes.write" },
  "GET /api/v1/repositories/:id/authorizations": {
    permission: "repository.authorizations.read",
    target: repo(),
  },
  // Users (server administration)
  "GET /api/v1/users": { permission: "users.admin" },
  "POST /api/v1/users": { permission: "users.admin" },
  "GET /api/v1/users/:id": { permission: "users.admin" },
  "PATCH /api/v1/users/:id": { permission: "users.admin" },
  "DELETE /api/v1/users/:id": { permission: "users.admin" },
  "PUT /api/v1/users/:id/password": { permission: "users.admin" },
  "DELETE /api/v1/users/:id/totp": { permission: "users.admin" },
  "GET /api/v1/users/:id/tokens": { permission: "users.admin" },
  // Audit log
  "GET /api/v1/audit": { permission: "audit.read" },
  // One's own account
  "GET /api/v1/me": { permission: "self.read" },
  // What the caller may do (the route answers 404 for an object the caller may not see).
  "GET /api/v1/me/permissions": { permission: "self.read" },
  "PUT /api/v1/me/password": { permission: "self.write" },
  "GET /api/v1/tokens": { permission: "self.read" },
  "POST /api/v1/tokens": { permission: "self.write" },
  "DELETE /api/v1/tokens/:id": { permission: "self.revoke" },
};

// Routes outside the authenticated scope authenticate in their own way or are public by nature,
// and are not listed here (test/server/permissions.test.ts: OPEN): /healthz, /metrics,
// /api/v1/openapi.json, /api/v1/auth/*, /api/v1/webhooks/*, /api/v1/agent (node credential),
// /api/v1/agent/register (registration token), /api/v1/agent/id-token (a job attempt's request
// token), and the job identity discovery documents and key sets, /.well-known/* and
// /orgs/:org/.well-known/* (public), the artifact service v4, /twirp/…ArtifactService/* (a job
// attempt's runtime token) and /artifacts/blobs/:id (a signed URL), the cache service v2,
// /twirp/…CacheService/* (runtime token) and /caches/blobs/:id (a signed URL), the provenance
// public keys /api/v1/provenance/keys (public: src/server/routes/provenance.ts), and the status
// badges /badge/* (public; a repository's status only for a public one or a caller who may read
// it: src/server/badge.ts).

export function routeKey(method: string, url: string): string {
  return `${method === "HEAD" ? "GET" : method} ${url}`;
}
