// The environments and deployment review operations of the OpenAPI document
// (routes/environments.ts), with request schemas from schemas-environments.ts.
import { arr, int, obj, str, strOrNull, type Json, type Operation } from "./openapi-parts.js";
import { IdParams } from "./schemas.js";
import { EnvParams, PutEnvironment, ReviewDeployments } from "./schemas-environments.js";

const strs = arr(str);
const Environment: Json = obj({
  name: str,
  repositoryId: int,
  reviewers: strs,
  reviewerRole: { enum: ["viewer", "developer", "maintainer", "admin", null] },
  branches: strs,
  tags: strs,
  waitTimerMinutes: int,
  createdBy: str,
  updatedBy: str,
  createdAt: str,
  updatedAt: str,
});
const Deployment: Json = obj(
  {
    jobId: int,
    jobName: str,
    environment: str,
    state: { enum: ["waiting", "approved", "rejected"] },
    reviewer: strOrNull,
    comment: strOrNull,
    createdAt: str,
    reviewedAt: strOrNull,
    approvers: str,
    youMay: { type: "boolean", description: "waiting deployments: whether the caller may review it" },
  },
  ["jobId", "jobName", "environment", "state", "reviewer", "comment", "createdAt", "reviewedAt"],
);
const Reviewed: Json = obj({
  state: { enum: ["approved", "rejected"] },
  environments: arr(
    obj({
      name: str,
      jobs: arr(
        obj({ id: int, name: str, status: { enum: ["released", "waiting", "failed", "unchanged"] } }, [
          "id",
          "name",
          "status",
        ]),
      ),
    }),
  ),
});

export const ENVIRONMENT_OPERATIONS: Operation[] = [
  {
    method: "get",
    path: "/api/v1/repositories/:id/environments",
    summary: "The environments of a repository with their protection rules",
    params: IdParams,
    ok: [200, arr(Environment)],
    errors: [400, 404],
  },
  {
    method: "get",
    path: "/api/v1/repositories/:id/environments/:env",
    summary: "One environment (names are case-insensitive)",
    params: EnvParams,
    ok: [200, Environment],
    errors: [400, 404],
  },
  {
    method: "put",
    path: "/api/v1/repositories/:id/environments/:env",
    summary:
      "Create an environment or change its protection rules (fields left out stay; 201 new, 200 changed): required reviewers (at most 6 users) and/or a minimum reviewer role, the branches and tags allowed to deploy (filter patterns; none: any ref), a wait timer (0 to 43200 minutes). The user who triggered a run can never approve it. Jobs waiting on the environment are judged by the new rules at once",
    params: EnvParams,
    body: PutEnvironment,
    ok: [200, Environment],
    errors: [400, 404],
  },
  {
    method: "delete",
    path: "/api/v1/repositories/:id/environments/:env",
    summary:
      "Delete an environment with its secrets and variables (refused while jobs wait for approval to deploy to it)",
    params: EnvParams,
    ok: [204, "Deleted"],
    errors: [400, 404, 409],
  },
  {
    method: "get",
    path: "/api/v1/runs/:id/deployments",
    summary:
      "The run's deployments to environments with required reviewers; waiting ones say who may approve",
    params: IdParams,
    ok: [200, arr(Deployment)],
    errors: [400, 404],
  },
  {
    method: "post",
    path: "/api/v1/runs/:id/deployments",
    summary:
      "Approve or reject what the run waits for (the environments named, or all): a named reviewer or a user with the environment's reviewer role, never the user who triggered the run (403). A rejection fails the jobs; audited",
    params: IdParams,
    body: ReviewDeployments,
    ok: [200, Reviewed],
    errors: [400, 404, 409],
  },
];
