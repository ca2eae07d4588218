// The OpenAPI 3.1 document of the REST API. Request schemas are generated from the same zod
// schemas the routes enforce; response shapes are written here once. A test checks that every
// route the server registers is documented.
import { z } from "zod";
import { permissionRule } from "../auth/index.js";
import { ROUTE_ACCESS, routeKey } from "./route-access.js";
import {
  arr,
  bool,
  int,
  intOrNull,
  obj,
  ref,
  responseSchema,
  str,
  strOrNull,
  type Json,
  type Operation,
} from "./openapi-parts.js";
import { NODE_OPERATIONS, NODE_SCHEMAS } from "./openapi-nodes.js";
import { POOL_OPERATIONS, POOL_SCHEMAS } from "./openapi-pools.js";
import { SECRETS_OPERATIONS } from "./openapi-secrets.js";
import { ENVIRONMENT_OPERATIONS } from "./openapi-environments.js";
import { CREDENTIALS_OPERATIONS } from "./openapi-credentials.js";
import { FORGE_OPERATIONS } from "./openapi-forge.js";
import { SSO_OPERATIONS } from "./openapi-sso.js";
import { IDENTITY_OPERATIONS } from "./openapi-identity.js";
import { ARTIFACT_OPERATIONS } from "./openapi-artifacts.js";
import { CACHE_OPERATIONS } from "./openapi-caches.js";
import { PROVENANCE_OPERATIONS } from "./openapi-provenance.js";
import { UI_OPERATIONS, UI_SCHEMAS } from "./openapi-ui.js";
import * as S from "./schemas.js";

const labels = arr(str);

const RunSummary = obj({
  id: int,
  repositoryId: int,
  number: int,
  event: str,
  ref: str,
  commit: str,
  state: { enum: ["queued", "running", "completed"] },
  conclusion: { enum: ["success", "failure", "cancelled", null] },
  attempt: int,
  url: str,
});
const RunAttempt = obj({
  attempt: int,
  mode: { enum: ["all", "failed", "job"] },
  job: strOrNull,
  triggeringActor: str,
  state: { enum: ["queued", "running", "completed"] },
  conclusion: { enum: ["success", "failure", "cancelled", null] },
  error: strOrNull,
  createdAt: str,
  startedAt: strOrNull,
  finishedAt: strOrNull,
});
const Step = obj({
  index: int,
  id: str,
  name: str,
  stage: { enum: ["pre", "main", "post"] },
  outcome: strOrNull,
  conclusion: strOrNull,
  startedAt: strOrNull,
  finishedAt: strOrNull,
});
const Job = obj({
  id: int,
  runId: int,
  key: str,
  jobId: str,
  name: str,
  workflow: str,
  matrix: {},
  labels,
  state: { enum: ["queued", "assigned", "running", "completed", "lost"] },
  conclusion: strOrNull,
  runAttempt: int,
  reusedFrom: intOrNull,
  attempt: int,
  node: strOrNull,
  image: strOrNull,
  flavour: strOrNull,
  waitReason: strOrNull,
  error: strOrNull,
  outputs: { type: "object" },
  logBytes: int,
  logTruncated: bool,
  createdAt: str,
  startedAt: strOrNull,
  finishedAt: strOrNull,
  url: str,
  steps: arr(ref("Step")),
});
const runExtra = {
  repository: str,
  title: str,
  trigger: { enum: ["webhook", "manual", "poll", "rerun", "schedule", "workflow_run"] },
  actor: str,
  createdAt: str,
  startedAt: strOrNull,
  finishedAt: strOrNull,
  error: strOrNull,
  workflowName: str,
  workflowFile: str,
  trustTier: { enum: ["trusted", "untrusted"] },
  approval: { enum: ["required", "approved", "rejected", null] },
  approvalReason: strOrNull,
  artifactMismatchAt: strOrNull,
  approvedBy: strOrNull,
  waitReason: strOrNull,
  branch: strOrNull,
  durationMs: intOrNull,
};
const webhookUrls = obj({ github: str, gitlab: str, gitea: str, bitbucket: str });
const repository = {
  id: int,
  name: str,
  cloneUrl: str,
  defaultBranch: str,
  pollIntervalSeconds: intOrNull,
  maxConcurrentJobs: intOrNull,
  egressAllow: arr(str),
  visibility: { enum: ["private", "public"] },
  createdAt: str,
  webhookUrls,
};
const Node = obj({
  id: int,
  name: str,
  labels,
  requiredLabels: labels,
  cpus: { type: "number" },
  memoryMb: int,
  diskMb: int,
  provisioners: labels,
  provisionerInfo: { type: "object", additionalProperties: str },
  images: labels,
  enabled: bool,
  connected: bool,
  lastSeenAt: strOrNull,
  running: int,
  createdAt: str,
  revokedAt: strOrNull,
  lastConnectedAt: strOrNull,
  credentialRotatedAt: strOrNull,
  pool: str,
  taintedAt: strOrNull,
  workerTrust: { enum: ["trusted", "untrusted"] },
  operator: strOrNull,
  flaggedAt: strOrNull,
  flagReason: strOrNull,
});
const Image = obj({
  id: int,
  name: str,
  labels,
  requiredLabels: labels,
  provisioner: str,
  createdAt: str,
});
const Flavour = obj({
  id: int,
  name: str,
  cpus: { type: "number" },
  memoryMb: int,
  diskMb: int,
  labels,
  requiredLabels: labels,
  createdAt: str,
});
const Organization = obj({
  id: int,
  name: str,
  maxConcurrentJobs: intOrNull,
  requireMfa: bool,
  createdAt: str,
});
const UserFull = obj({
  id: int,
  name: str,
  displayName: str,
  email: strOrNull,
  disabled: bool,
  serverAdmin: bool,
  hasPassword: bool,
  mfa: bool,
  createdAt: str,
});
const Grant = obj({
  id: int,
  userId: int,
  userName: str,
  organizationId: int,
  organization: str,
  repositoryId: intOrNull,
  repository: strOrNull,
  role: { enum: ["viewer", "developer", "maintainer", "admin"] },
  createdAt: str,
});
const Token = obj({
  id: int,
  name: str,
  kind: { enum: ["personal", "service"] },
  publicId: str,
  userId: intOrNull,
  organizationId: intOrNull,
  scopes: arr(str),
  createdAt: str,
  expiresAt: strOrNull,
  lastUsedAt: strOrNull,
  revokedAt: strOrNull,
});
const ErrorSchema = obj({
  error: obj({ code: str, message: str, details: {} }, ["code", "message"]),
});

const components = {
  schemas: {
    RunSummary,
    Run: { allOf: [ref("RunSummary"), obj(runExtra)] },
    RunAttempt,
    RunWithJobs: {
      allOf: [
        ref("Run"),
        obj(
          {
            shownAttempt: int,
            graph: {
              oneOf: [
                { type: "null" },
                arr(
                  obj({ id: str, name: str, needs: arr(str), calls: bool }, ["id", "name", "needs", "calls"]),
                ),
              ],
            },
            attempts: arr(ref("RunAttempt")),
            jobs: arr(ref("Job")),
            approvers: {
              description:
                "A run waiting for approval: the roles that may approve it (server administrators too) and whether the caller may; null otherwise",
              oneOf: [{ type: "null" }, obj({ roles: arr(str), youMay: bool })],
            },
            forgeStatus: {
              oneOf: [
                { type: "null" },
                obj({
                  context: str,
                  phase: { enum: ["queued", "waiting", "running", "success", "failure", "cancelled"] },
                  delivery: { enum: ["pending", "sending", "sent", "superseded", "failed"] },
                  attempts: int,
                  lastError: strOrNull,
                  updatedAt: str,
                }),
              ],
            },
          },
          ["shownAttempt", "graph", "attempts", "jobs"],
        ),
      ],
    },
    Job,
    Step,
    Repository: obj(repository),
    NewRepository: { allOf: [ref("Repository"), obj({ webhookSecret: str })] },
    Node,
    // The list adds what only the orchestrator's memory knows: the agent said it is stopping gracefully.
    ListedNode: {
      allOf: [
        ref("Node"),
        obj({
          draining: {
            type: "boolean",
            description: "its agent is stopping: it finishes its running jobs and is given no new ones",
          },
        }),
      ],
    },
    Image,
    Flavour,
    Organization,
    User: obj({ id: int, name: str, displayName: str, serverAdmin: bool, mfa: bool }),
    UserFull,
    Grant,
    Token,
    NewToken: { allOf: [ref("Token"), obj({ token: str })] },
    // Generated from the route's zod schema (the others here are still written by hand).
    AuditEntry: responseSchema(S.AuditEntryView),
    ...NODE_SCHEMAS,
    ...POOL_SCHEMAS,
    ...UI_SCHEMAS,
    Error: ErrorSchema,
  },
  securitySchemes: {
    token: {
      type: "http",
      scheme: "bearer",
      description:
        "A personal (alk_pat_…) or service (alk_svc_…) API token; each route needs the permission in x-airlock-permission (docs/security.md)",
    },
    node: {
      type: "http",
      scheme: "bearer",
      description: "A node's credential (alk_node_…), rotated on every connection",
    },
    registration: {
      type: "http",
      scheme: "bearer",
      description: "A one-time node registration token (alk_reg_…, POST /nodes/registrations)",
    },
    runtime: {
      type: "http",
      scheme: "bearer",
      description:
        "A job attempt's runtime token (ACTIONS_RUNTIME_TOKEN, a JWT the orchestrator signs); refused once the attempt is no longer assigned or running",
    },
    session: {
      type: "apiKey",
      in: "cookie",
      name: "airlock_session",
      description:
        "A browser session (POST /auth/login); state-changing requests also send the session's CSRF token in X-CSRF-Token",
    },
  },
};

const json = (schema: z.ZodType): Json => z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });

const OPERATIONS: Operation[] = [
  {
    method: "get",
    path: "/healthz",
    summary: "Liveness and database check",
    security: "none",
    ok: [200, obj({ ok: bool, database: str })],
  },
  {
    method: "get",
    path: "/metrics",
    summary: "Prometheus metrics",
    security: "none",
    ok: [200, "Prometheus text format", "text/plain"],
  },
  {
    method: "get",
    path: "/api/v1/openapi.json",
    summary: "This document",
    security: "none",
    ok: [200, { type: "object" }],
  },
  {
    method: "post",
    path: "/api/v1/repositories",
    summary: "Register a repository (the webhook secret is shown only here)",
    body: S.CreateRepository,
    ok: [201, ref("NewRepository")],
    errors: [400, 409],
  },
  {
    method: "get",
    path: "/api/v1/repositories",
    summary: "List repositories",
    ok: [200, arr(ref("Repository"))],
  },
  {
    method: "get",
    path: "/api/v1/repositories/:id",
    summary: "Show a repository",
    params: S.IdParams,
    ok: [200, ref("Repository")],
    errors: [404],
  },
  {
    method: "patch",
    path: "/api/v1/repositories/:id",
    summary:
      "Change a repository's clone URL (a password in it is sealed as its clone-password and taken out), default branch, poll interval or job limit (null: none); the webhook secret stays. 409 when the clone URL moves to another host while a clone password is stored",
    params: S.IdParams,
    body: S.UpdateRepository,
    ok: [200, ref("Repository")],
    errors: [400, 404, 409],
  },
  {
    method: "put",
    path: "/api/v1/repositories/:id/egress",
    summary: "Set the repository's egress allow-list (host:port, *.domain:port, ip:port; [] for none)",
    params: S.IdParams,
    body: S.RepositoryEgress,
    ok: [200, ref("Repository")],
    errors: [400, 404],
  },
  {
    method: "delete",
    path: "/api/v1/repositories/:id",
    summary: "Remove a repository with its runs (refused while runs are active)",
    params: S.IdParams,
    ok: [204, "Removed"],
    errors: [404, 409],
  },
  {
    method: "post",
    path: "/api/v1/repositories/:id/runs",
    summary: "Trigger runs manually",
    params: S.IdParams,
    body: S.TriggerRun,
    ok: [201, obj({ runs: arr(ref("RunSummary")) })],
    errors: [400, 404],
  },
  {
    method: "post",
    path: "/api/v1/repositories/:id/dispatches",
    summary: "repository_dispatch: run the default branch's workflows whose types take event_type",
    params: S.IdParams,
    body: S.DispatchRun,
    ok: [201, obj({ runs: arr(ref("RunSummary")) })],
    errors: [400, 404],
  },
  {
    method: "get",
    path: "/api/v1/runs",
    summary:
      "List runs, newest first (before: older than that id), filtered by repository, state, status (a state, in_progress, a conclusion, or action_required), workflow (file, its base name with or without .yml, or name), branch, event and actor — exact matches",
    query: S.RunsQuery,
    ok: [200, arr(ref("Run"))],
  },
  {
    method: "get",
    path: "/api/v1/runs/:id",
    summary: "Show a run with its attempts, and the jobs and steps of one attempt (default the current one)",
    params: S.IdParams,
    query: S.RunQuery,
    ok: [200, ref("RunWithJobs")],
    errors: [404],
  },
  {
    method: "post",
    path: "/api/v1/runs/:id/cancel",
    summary: "Cancel a run (idempotent while it runs); 409 once it has finished",
    params: S.IdParams,
    ok: [202, obj({ ok: bool })],
    errors: [404, 409],
  },
  {
    method: "post",
    path: "/api/v1/runs/:id/rerun",
    summary:
      "Re-run a finished run as its next attempt (github.run_attempt): every job, with failedOnly the failed and cancelled jobs, or with job one job (all its instances) — and the jobs that need them (the others' results kept); 409 while it runs",
    params: S.IdParams,
    body: S.Rerun,
    ok: [201, ref("RunSummary")],
    errors: [400, 404, 409],
  },
  {
    method: "post",
    path: "/api/v1/runs/:id/approve",
    summary:
      "Approve an untrusted run waiting for approval (maintainers, as people): approves its commit, and every run waiting at that commit starts; audited",
    params: S.IdParams,
    ok: [200, obj({ approved: bool, started: arr(int) })],
    errors: [404, 409],
  },
  {
    method: "post",
    path: "/api/v1/runs/:id/reject",
    summary: "Reject an untrusted run waiting for approval: it ends, cancelled; audited",
    params: S.IdParams,
    ok: [200, obj({ rejected: bool })],
    errors: [404, 409],
  },
  {
    method: "get",
    path: "/api/v1/jobs/:id",
    summary: "Show a job",
    params: S.IdParams,
    ok: [200, ref("Job")],
    errors: [404],
  },
  {
    method: "get",
    path: "/api/v1/jobs/:id/logs",
    summary:
      "The job's log so far (download=1: as an attachment; timestamps=1: each line prefixed with its time, ISO 8601 UTC)",
    params: S.IdParams,
    query: S.LogsQuery,
    ok: [200, "The log", "text/plain"],
    errors: [404],
  },
  {
    method: "get",
    path: "/api/v1/jobs/:id/logs/stream",
    summary:
      "Follow the log: SSE `log` events {attempt, seq, data, source: system|step, style, time} (id attempt:seq; Last-Event-ID or ?after=attempt:seq resumes), `wait` events {reason} while the job is queued, then `end` with the conclusion",
    params: S.IdParams,
    query: S.LogStreamQuery,
    ok: [200, "Server-Sent Events", "text/event-stream"],
    errors: [404],
  },
  ...NODE_OPERATIONS,
  ...POOL_OPERATIONS,
  {
    method: "get",
    path: "/api/v1/organizations",
    summary: "List organizations",
    ok: [200, arr(ref("Organization"))],
  },
  {
    method: "post",
    path: "/api/v1/organizations",
    summary: "Add an organization (repositories join it with `organization` when added)",
    body: S.CreateOrganization,
    ok: [201, ref("Organization")],
    errors: [400, 409],
  },
  {
    method: "put",
    path: "/api/v1/organizations/:name/limit",
    summary: "Set (or, with null, lift) the organization's limit of jobs running at once",
    params: S.NameParams,
    body: S.OrganizationLimit,
    ok: [200, ref("Organization")],
    errors: [400, 404],
  },
  {
    method: "get",
    path: "/api/v1/organizations/:name",
    summary: "Show an organization",
    params: S.NameParams,
    ok: [200, ref("Organization")],
    errors: [404],
  },
  {
    method: "put",
    path: "/api/v1/organizations/:name/settings",
    summary:
      "Change an organization's settings (requireMfa: members who log in with a password need TOTP to act in it)",
    params: S.NameParams,
    body: S.OrganizationSettings,
    ok: [200, ref("Organization")],
    errors: [400, 404],
  },
  {
    method: "get",
    path: "/api/v1/organizations/:name/members",
    summary: "Roles in an organization and on its repositories",
    params: S.NameParams,
    ok: [200, arr(ref("Grant"))],
    errors: [404],
  },
  {
    method: "put",
    path: "/api/v1/organizations/:name/members/:user",
    summary: "Give a user a role in the organization (replaces their organization role)",
    params: S.OrgMemberParams,
    body: S.SetRole,
    ok: [200, ref("Grant")],
    errors: [400, 404],
  },
  {
    method: "delete",
    path: "/api/v1/organizations/:name/members/:user",
    summary: "Take a user's organization role away",
    params: S.OrgMemberParams,
    ok: [204, "Removed"],
    errors: [404],
  },
  {
    method: "get",
    path: "/api/v1/organizations/:name/tokens",
    summary: "The organization's service tokens (never their secrets)",
    params: S.NameParams,
    ok: [200, arr(ref("Token"))],
    errors: [404],
  },
  {
    method: "post",
    path: "/api/v1/organizations/:name/tokens",
    summary: "Make a service token acting in the organization with the given scopes (shown once)",
    params: S.NameParams,
    body: S.CreateToken,
    ok: [201, ref("NewToken")],
    errors: [400, 404],
  },
  {
    method: "delete",
    path: "/api/v1/organizations/:name/tokens/:id",
    summary: "Revoke a service token",
    params: S.OrgTokenParams,
    ok: [204, "Revoked"],
    errors: [404],
  },
  {
    method: "get",
    path: "/api/v1/repositories/:id/members",
    summary: "Roles on a repository",
    params: S.IdParams,
    ok: [200, arr(ref("Grant"))],
    errors: [404],
  },
  {
    method: "put",
    path: "/api/v1/repositories/:id/members/:user",
    summary: "Give a user a role on the repository (replaces their repository role)",
    params: S.RepoMemberParams,
    body: S.SetRole,
    ok: [200, ref("Grant")],
    errors: [400, 404],
  },
  {
    method: "delete",
    path: "/api/v1/repositories/:id/members/:user",
    summary: "Take a user's repository role away",
    params: S.RepoMemberParams,
    ok: [204, "Removed"],
    errors: [404],
  },
  { method: "get", path: "/api/v1/users", summary: "List users", ok: [200, arr(ref("UserFull"))] },
  {
    method: "post",
    path: "/api/v1/users",
    summary: "Add a user (with a password: a built-in user; without: one who logs in through single sign-on)",
    body: S.CreateUser,
    ok: [201, ref("UserFull")],
    errors: [400, 409],
  },
  {
    method: "get",
    path: "/api/v1/users/:id",
    summary: "Show a user with their roles",
    params: S.IdParams,
    ok: [200, { allOf: [ref("UserFull"), obj({ roles: arr(ref("Grant")) })] }],
    errors: [404],
  },
  {
    method: "patch",
    path: "/api/v1/users/:id",
    summary: "Change a user; disabled: true ends their sessions and tokens at once",
    params: S.IdParams,
    body: S.UpdateUser,
    ok: [200, ref("UserFull")],
    errors: [400, 404, 409],
  },
  {
    method: "delete",
    path: "/api/v1/users/:id",
    summary: "Delete a user (not the last enabled server administrator)",
    params: S.IdParams,
    ok: [204, "Deleted"],
    errors: [404, 409],
  },
  {
    method: "put",
    path: "/api/v1/users/:id/password",
    summary: "Set a user's password (ends their sessions and tokens)",
    params: S.IdParams,
    body: S.ResetPassword,
    ok: [204, "Set"],
    errors: [400, 404],
  },
  {
    method: "delete",
    path: "/api/v1/users/:id/totp",
    summary: "Take away a user's TOTP and recovery codes (a lost device)",
    params: S.IdParams,
    ok: [200, ref("UserFull")],
    errors: [404],
  },
  {
    method: "get",
    path: "/api/v1/users/:id/tokens",
    summary: "A user's personal tokens",
    params: S.IdParams,
    ok: [200, arr(ref("Token"))],
    errors: [404],
  },
  {
    method: "get",
    path: "/api/v1/me",
    summary: "Who is asking: the user (with roles) or the service token",
    ok: [200, { type: "object" }],
  },
  {
    method: "put",
    path: "/api/v1/me/password",
    summary: "Change one's own password (ends every session and token of the user)",
    body: S.ChangePassword,
    ok: [204, "Changed"],
    errors: [400, 429],
  },
  { method: "get", path: "/api/v1/tokens", summary: "One's personal tokens", ok: [200, arr(ref("Token"))] },
  {
    method: "post",
    path: "/api/v1/tokens",
    summary:
      "Make a personal token (shown once; what it may do is bounded by its scopes and the user's roles)",
    body: S.CreateToken,
    ok: [201, ref("NewToken")],
    errors: [400],
  },
  {
    method: "delete",
    path: "/api/v1/tokens/:id",
    summary: "Revoke one of one's personal tokens (a server administrator: anyone's)",
    params: S.IdParams,
    ok: [204, "Revoked"],
    errors: [404],
  },
  { method: "get", path: "/api/v1/images", summary: "List images", ok: [200, arr(ref("Image"))] },
  {
    method: "post",
    path: "/api/v1/images",
    summary: "Add an image (machine template)",
    body: S.CreateImage,
    ok: [201, ref("Image")],
    errors: [400, 409],
  },
  { method: "get", path: "/api/v1/flavours", summary: "List flavours", ok: [200, arr(ref("Flavour"))] },
  {
    method: "post",
    path: "/api/v1/flavours",
    summary: "Add a flavour (CPU, memory, disk)",
    body: S.CreateFlavour,
    ok: [201, ref("Flavour")],
    errors: [400, 409],
  },
  {
    method: "get",
    path: "/api/v1/audit",
    summary:
      "The audit log, newest first (action: dotted prefix; actor, object: kind or kind:id; before: seq, for paging)",
    query: S.AuditQuery,
    ok: [200, arr(ref("AuditEntry"))],
    errors: [400],
  },
  {
    method: "post",
    path: "/api/v1/webhooks/:provider/:repositoryId",
    summary:
      "Webhook delivery, authenticated by its signature (X-Hub-Signature-256, X-Gitlab-Token, X-Gitea-Signature, X-Hub-Signature) over the raw body",
    security: "none",
    params: S.WebhookParams,
    ok: [202, obj({ runs: arr(ref("RunSummary")) })],
    errors: [400, 401, 404, 413],
  },
  {
    method: "post",
    path: "/api/v1/auth/login",
    summary:
      "Log in with a built-in user: sets the session cookie; answers the CSRF token and whether the second factor is due",
    security: "none",
    body: S.Login,
    ok: [200, obj({ user: ref("User"), csrfToken: str, mfaRequired: bool })],
    errors: [400, 401, 429],
  },
  {
    method: "post",
    path: "/api/v1/auth/mfa",
    summary:
      "The second factor of a session (a TOTP code or a recovery code): a new session id and CSRF token",
    security: "session",
    body: S.SecondFactor,
    ok: [200, obj({ csrfToken: str })],
    errors: [400, 401, 403, 429],
  },
  {
    method: "post",
    path: "/api/v1/auth/logout",
    summary: "End this session",
    security: "session",
    ok: [204, "Logged out"],
    errors: [403],
  },
  {
    method: "post",
    path: "/api/v1/auth/logout-all",
    summary: "End every session and token of the user",
    security: "session",
    ok: [204, "Logged out everywhere"],
    errors: [401, 403],
  },
  {
    method: "get",
    path: "/api/v1/auth/session",
    summary: "The browser session: its user, whether the second factor is still due, its CSRF token",
    security: "session",
    ok: [200, obj({ user: ref("User"), complete: bool, csrfToken: str })],
    errors: [401],
  },
  {
    method: "get",
    path: "/api/v1/auth/me",
    summary: "The logged-in user",
    security: "session",
    ok: [200, ref("User")],
    errors: [401, 403],
  },
  {
    method: "post",
    path: "/api/v1/auth/totp/begin",
    summary:
      "Start TOTP enrolment: a new secret (and its otpauth:// URI), pending until confirmed; replacing an existing TOTP takes a current code or recovery code",
    security: "session",
    body: S.TotpBegin,
    ok: [200, obj({ secret: str, uri: str })],
    errors: [401, 403],
  },
  {
    method: "post",
    path: "/api/v1/auth/totp/confirm",
    summary: "Confirm TOTP enrolment with a code: MFA on, ten recovery codes shown once",
    security: "session",
    body: S.TotpConfirm,
    ok: [200, obj({ recoveryCodes: arr(str), csrfToken: str })],
    errors: [400, 401, 403],
  },
  ...SSO_OPERATIONS,
  ...SECRETS_OPERATIONS,
  ...ENVIRONMENT_OPERATIONS,
  ...IDENTITY_OPERATIONS,
  ...ARTIFACT_OPERATIONS,
  ...CACHE_OPERATIONS,
  ...PROVENANCE_OPERATIONS,
  ...CREDENTIALS_OPERATIONS,
  ...FORGE_OPERATIONS,
  ...UI_OPERATIONS,
];

function response(ok: Operation["ok"]): Json {
  const [, schema, type = "application/json"] = ok;
  if (typeof schema === "string")
    return type === "application/json"
      ? { description: schema }
      : { description: schema, content: { [type]: { schema: str } } };
  return { description: "OK", content: { [type]: { schema } } };
}

function parameters(op: Operation): Json[] {
  const out: Json[] = [];
  for (const [where, schema] of [
    ["path", op.params],
    ["query", op.query],
  ] as const) {
    if (!schema) continue;
    const js = json(schema) as { properties?: Record<string, Json>; required?: string[] };
    for (const [name, s] of Object.entries(js.properties ?? {}))
      out.push({
        name,
        in: where,
        required: where === "path" || (js.required ?? []).includes(name),
        schema: s,
      });
  }
  return out;
}

export function openApiPath(fastifyPath: string): string {
  return fastifyPath.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
}

export function buildOpenApi(serverUrl: string): Json {
  const paths: Record<string, Record<string, Json>> = {};
  for (const op of OPERATIONS) {
    const [status] = op.ok;
    const responses: Json = { [status]: response(op.ok) };
    for (const e of op.errors ?? [])
      responses[e] = { description: "Error", content: { "application/json": { schema: ref("Error") } } };
    if ((op.security ?? "token") !== "none")
      responses[401] = {
        description: "Missing or refused token",
        content: { "application/json": { schema: ref("Error") } },
      };
    const operation: Json = { summary: op.summary, parameters: parameters(op), responses };
    const access = ROUTE_ACCESS[routeKey(op.method.toUpperCase(), op.path)];
    if (access) {
      const rule = permissionRule(access.permission);
      operation["x-airlock-permission"] = {
        name: access.permission,
        level: rule.level,
        ...(rule.role ? { role: rule.role } : {}),
        ...(rule.scope ? { scope: rule.scope } : {}),
      };
      responses[403] = {
        description: "Not allowed",
        content: { "application/json": { schema: ref("Error") } },
      };
    }
    const security = op.security ?? "token";
    operation.security = security === "none" ? [] : [{ [security]: [] }];
    if (op.body)
      operation.requestBody = { required: true, content: { "application/json": { schema: json(op.body) } } };
    if (op.path.startsWith("/api/v1/webhooks/"))
      operation.requestBody = {
        required: true,
        content: { "*/*": { schema: { description: "The provider's payload, exactly as signed" } } },
      };
    (paths[openApiPath(op.path)] ??= {})[op.method] = operation;
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Airlock API",
      version: "1",
      description: "Self-hosted CI orchestrator. Errors: { error: { code, message, details? } }.",
    },
    servers: [{ url: serverUrl }],
    paths,
    components,
  };
}
