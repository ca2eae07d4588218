// Zod schemas of every request the API accepts. The OpenAPI document is generated from the same
// schemas, so what is documented is what is enforced. Strings that end up in git commands or
// SQL are constrained here and always passed on as data, never interpolated.
import { z } from "zod";
import { MAX_ALLOW_ENTRIES, parseAllowList } from "../egress/index.js";
import {
  MAX_REGISTRATION_MINUTES,
  REGISTRATION_STATES,
  type Registration,
} from "../orchestrator/node-auth/index.js";
import { WORKER_TRUSTS } from "../orchestrator/catalog/index.js";
import type { RunSummary } from "../orchestrator/types.js";
import { RUN_STATUSES } from "../orchestrator/views/index.js";

const id = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
/** A positive integer id in a path. */
export const PositiveId = id;
export const IdParams = z.object({ id });

const label = z.string().min(1).max(200);
const labels = z.array(label).max(100);
const name = z
  .string()
  .min(1)
  .max(100)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.-]*$/,
    "letters, digits, '.', '_' and '-', starting with a letter or digit",
  );

export const CreateRepository = z
  .object({
    name: z
      .string()
      .max(200)
      .regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)+$/, "expected owner/repo"),
    cloneUrl: z
      .string()
      .max(2000)
      .regex(
        /^((https?|git|ssh|file):\/\/\S+|[A-Za-z0-9_.-]+@[A-Za-z0-9_.-]+:\S+|\/\S*)$/,
        "expected an http(s)://, git://, ssh://, file:// URL, user@host:path or an absolute path",
      ),
    defaultBranch: z
      .string()
      .min(1)
      .max(250)
      .regex(/^(?!-)(?!.*\.\.)[^\s~^:?*[\\\p{Cc}]+$/u, "expected a branch name")
      .default("main"),
    pollIntervalSeconds: z.number().int().min(10).max(86400).nullable().optional(),
    maxConcurrentJobs: z.number().int().positive().max(10000).nullable().optional(),
    /** Organization the repository joins (default "default"); its limit covers all its repositories. */
    organization: z.string().min(1).max(100).optional(),
    /** Who may see its status badges without signing in (default private: nobody). */
    visibility: z.enum(["private", "public"]).optional(),
  })
  .strict();

/**
 * PATCH /repositories/:id: what `repos add` set, apart from the name, the organization and the
 * webhook secret (kept). null takes polling or the job limit away. At least one field.
 */
export const UpdateRepository = z
  .object({
    cloneUrl: CreateRepository.shape.cloneUrl.optional(),
    defaultBranch: CreateRepository.shape.defaultBranch.unwrap().optional(),
    pollIntervalSeconds: CreateRepository.shape.pollIntervalSeconds,
    maxConcurrentJobs: CreateRepository.shape.maxConcurrentJobs,
    /** 'public' shows its status badges to anyone (GET /badge/...); 'private' to who may read it. */
    visibility: z.enum(["private", "public"]).optional(),
  })
  .strict()
  .refine((v) => Object.keys(v).length > 0, "nothing to change: give at least one field");
export type UpdateRepositoryBody = z.input<typeof UpdateRepository>;

/**
 * A repository's egress allow-list (replaces the old one; [] removes it). Every entry is checked
 * with the same parser the agent enforces with; all problems are reported at once. The
 * normalised entries are what gets stored.
 */
export const RepositoryEgress = z
  .object({ allow: z.array(z.string().max(300)).max(MAX_ALLOW_ENTRIES) })
  .strict()
  .transform((v, ctx) => {
    const { list, problems } = parseAllowList(v.allow);
    for (const p of problems) ctx.addIssue({ code: "custom", message: p, path: ["allow"] });
    return { allow: list.entries };
  });
export type RepositoryEgressBody = z.input<typeof RepositoryEgress>;

const maxJobs = z.number().int().positive().max(10000).nullable();

export const CreateOrganization = z.object({ name, maxConcurrentJobs: maxJobs.optional() }).strict();
export const OrganizationLimit = z.object({ maxConcurrentJobs: maxJobs }).strict();
export const NameParams = z.object({ name: z.string().min(1).max(100) });
export type CreateOrganizationBody = z.input<typeof CreateOrganization>;

const refLike = z
  .string()
  .min(1)
  .max(250)
  .regex(/^(?!-)[^\s\p{Cc}]+$/u, "expected a branch, tag or ref");

export const TriggerRun = z
  .object({
    ref: refLike.optional(),
    commit: z
      .string()
      .regex(/^[0-9a-fA-F]{7,64}$/, "expected a commit hash")
      .optional(),
    event: z
      .string()
      .regex(/^[a-z_]{1,64}$/, "expected an event name such as push or workflow_dispatch")
      .optional(),
    inputs: z
      .record(z.string().min(1).max(200), z.union([z.string(), z.number(), z.boolean()]).transform(String))
      .optional(),
  })
  .strict();

/**
 * POST /repositories/:id/dispatches: GitHub's repository_dispatch request (event_type up to 100
 * characters, client_payload an object of at most 10 top-level properties, as GitHub limits it).
 */
export const DispatchRun = z
  .object({
    event_type: z.string().min(1).max(100),
    client_payload: z
      .record(z.string(), z.unknown())
      .refine((o) => Object.keys(o).length <= 10, "client_payload may have at most 10 top-level properties")
      .refine((o) => JSON.stringify(o).length <= 65_536, "client_payload may be at most 64 KiB as JSON")
      .optional(),
  })
  .strict();

/** A filter value matched exactly (a parameter of the query, never SQL text). */
const exact = z.string().min(1).max(500).optional();

export const RunsQuery = z
  .object({
    repository: id.optional(),
    state: z.enum(["queued", "running", "completed"]).optional(),
    status: z.enum(RUN_STATUSES).optional(),
    workflow: exact,
    branch: exact,
    event: exact,
    actor: exact,
    before: id.optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
  })
  .strict();

const flag = z.enum(["0", "1", "true", "false"]).optional();

/**
 * GET /jobs/:id/logs: `download` as an attachment, `timestamps` each line prefixed with its time
 * (ISO 8601 UTC, as GitHub's raw logs).
 */
export const LogsQuery = z.object({ download: flag, timestamps: flag }).strict();

/** GET /jobs/:id/logs/stream: `after` "<attempt>:<seq>", only later chunks (as Last-Event-ID). */
export const LogStreamQuery = z
  .object({
    after: z
      .string()
      .regex(/^\d{1,9}:\d{1,9}$/, "expected <attempt>:<seq>")
      .optional(),
  })
  .strict();

/** GET /runs/:id: `attempt` lists that attempt's jobs (default the current one). */
export const RunQuery = z
  .object({ attempt: z.coerce.number().int().min(1).max(1_000_000).optional() })
  .strict();

/**
 * POST /runs/:id/rerun: every job (default), only the failed ones, or one job (its workflow job
 * id); the jobs that need them too.
 */
export const Rerun = z
  .object({
    failedOnly: z.boolean().optional(),
    job: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_-]{0,99}$/, "a workflow job id")
      .optional(),
  })
  .strict();

/** POST /nodes/registrations: a one-time token for a node of this name, labels and required labels. */
/** Who operates a node: printable text, no control characters. */
const operatorName = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[^\p{Cc}]+$/u, "an operator name is printable text without control characters")
  .regex(/\S/u, "an operator name cannot be only spaces");

/** PUT /nodes/:id/worker: the node's worker trust and (optionally) its operator (null: this installation's). */
export const SetNodeWorker = z.strictObject({
  workerTrust: z.enum(WORKER_TRUSTS),
  operator: operatorName.nullable().optional(),
});
export type SetNodeWorkerBody = z.input<typeof SetNodeWorker>;

export const CreateNodeRegistration = z
  .object({
    name,
    labels: labels.optional(),
    requiredLabels: labels.optional(),
    /** The pool the node is placed in (default: `default`). */
    pool: z.string().min(1).max(100).optional(),
    /** Whether it is this installation's own node (default) or a third party's (docs/integrity.md). */
    workerTrust: z.enum(WORKER_TRUSTS).optional(),
    /** Who operates it (default: this installation's operator). */
    operator: operatorName.optional(),
    /** How long the token may be exchanged: 1 minute to 7 days; default 60 minutes. */
    expiresInMinutes: z.number().int().min(1).max(MAX_REGISTRATION_MINUTES).optional(),
  })
  .strict();

/** GET /nodes/registrations: one registration, never its token. */
export const NodeRegistrationView = z.object({
  id: z.number().int(),
  name: z.string(),
  labels: z.array(z.string()),
  requiredLabels: z.array(z.string()),
  pool: z.string(),
  workerTrust: z.enum(WORKER_TRUSTS),
  operator: z.string().nullable(),
  state: z.enum(REGISTRATION_STATES),
  createdAt: z.string(),
  expiresAt: z.string(),
  usedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  nodeId: z.number().int().nullable(),
});
/** POST /nodes/registrations: the registration and its token, shown this once. */
export const NewNodeRegistrationView = NodeRegistrationView.extend({ token: z.string() });
export type NewNodeRegistration = z.infer<typeof NewNodeRegistrationView>;
/** POST /nodes/:id/credential: the node's new credential, shown this once (its old ones are dead). */
export const ReissuedNodeCredentialView = z.object({
  nodeId: z.number().int(),
  name: z.string(),
  credential: z.string(),
});
export type ReissuedNodeCredential = z.infer<typeof ReissuedNodeCredentialView>;
/** A registration as the API shows it (the route's answer is typed with the view: no drift). */
export const registrationView = (r: Registration): z.infer<typeof NodeRegistrationView> => r;

export const CreateImage = z
  .object({
    name,
    labels: labels.optional(),
    requiredLabels: labels.optional(),
    provisioner: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,49}$/, "expected a provisioner name such as sandbox")
      .optional(),
  })
  .strict();

export const CreateFlavour = z
  .object({
    name,
    cpus: z.number().positive().max(1024),
    memoryMb: z
      .number()
      .int()
      .positive()
      .max(16 * 1024 * 1024),
    diskMb: z
      .number()
      .int()
      .positive()
      .max(1024 * 1024 * 1024),
    labels: labels.optional(),
    requiredLabels: labels.optional(),
  })
  .strict();

const kindAndId = z
  .string()
  .max(250)
  .regex(/^[a-z][a-z0-9_]{0,31}(:.+)?$/, "expected kind or kind:id, e.g. token:1 or repository:12");

export const AuditQuery = z
  .object({
    /** A dotted prefix: `repository` matches repository and repository.*. */
    action: z
      .string()
      .max(100)
      .regex(/^[a-z][a-z0-9_.]*$/, "expected an action or a dotted prefix such as repository")
      .optional(),
    actor: kindAndId.optional(),
    object: kindAndId.optional(),
    since: z.iso.datetime({ offset: true }).optional(),
    until: z.iso.datetime({ offset: true }).optional(),
    before: id.optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();

/** GET /audit: one entry as listed (newest first). The hash chain is described in docs/security.md. */
export const AuditEntryView = z.object({
  seq: z.number().int(),
  at: z.string(),
  actor: z.object({ kind: z.string(), id: z.string().nullable(), display: z.string().nullable() }),
  action: z.string(),
  object: z.object({ kind: z.string(), id: z.string().nullable() }).nullable(),
  clientAddress: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  prevHash: z.string(),
  hash: z.string(),
});
export type AuditEntryView = z.infer<typeof AuditEntryView>;

export const WebhookParams = z.object({
  provider: z.enum(["github", "gitlab", "gitea", "bitbucket"]),
  repositoryId: id,
});

// Wire types: the bodies as a client sends them (before defaults and coercion), derived from the
// schemas above so the CLI cannot drift from what the server accepts. Responses that are a view
// are typed where the view is built (orchestrator/views, orchestrator/catalog); the ones a route
// wraps are here.
export type CreateRepositoryBody = z.input<typeof CreateRepository>;
export type TriggerRunBody = z.input<typeof TriggerRun>;
export type DispatchRunBody = z.input<typeof DispatchRun>;
export type CreateNodeRegistrationBody = z.input<typeof CreateNodeRegistration>;
export type CreateImageBody = z.input<typeof CreateImage>;
export type CreateFlavourBody = z.input<typeof CreateFlavour>;

/** POST /repositories/:id/runs: one run per matching workflow. */
export interface TriggerRunResponse {
  runs: RunSummary[];
}

export type NodeRegistration = z.infer<typeof NodeRegistrationView>;

// ---------------------------------------------------------------- identity (/api/v1/auth)

/** POST /auth/login. Sizes bounded before any hashing. */
export const Login = z.strictObject({
  user: z.string().min(1).max(200),
  password: z.string().min(1).max(2048),
});
/** POST /auth/mfa: a TOTP code or a recovery code. */
export const SecondFactor = z
  .strictObject({
    code: z.string().min(1).max(16).optional(),
    recoveryCode: z.string().min(1).max(64).optional(),
  })
  .refine((b) => (b.code === undefined) !== (b.recoveryCode === undefined), {
    message: "give code or recoveryCode",
  });
/** POST /auth/totp/begin: replacing an existing TOTP takes a current code or a recovery code. */
export const TotpBegin = z
  .strictObject({
    code: z.string().min(1).max(16).optional(),
    recoveryCode: z.string().min(1).max(64).optional(),
  })
  .optional();
/** POST /auth/totp/confirm. */
export const TotpConfirm = z.strictObject({ code: z.string().min(1).max(16) });

// ---------------------------------------------------------------- users, roles, tokens

/** PUT /organizations/:name/settings. */
export const OrganizationSettings = z.strictObject({ requireMfa: z.boolean().optional() });

const userName = z.string().min(1).max(64);
const password = z.string().min(1).max(2048);
/** POST /users: a built-in user (a password) or one who will log in through single sign-on (none). */
export const CreateUser = z.strictObject({
  name: userName,
  password: password.optional(),
  displayName: z.string().max(200).optional(),
  email: z.string().max(320).nullable().optional(),
  serverAdmin: z.boolean().optional(),
});
/** PATCH /users/:id. */
export const UpdateUser = z.strictObject({
  displayName: z.string().max(200).optional(),
  email: z.string().max(320).nullable().optional(),
  serverAdmin: z.boolean().optional(),
  disabled: z.boolean().optional(),
});
/** PUT /users/:id/password (an administrator sets a new password). */
export const ResetPassword = z.strictObject({ password });
/** PUT /me/password. */
export const ChangePassword = z.strictObject({ currentPassword: password, newPassword: password });

/** Members routes: /organizations/:name/members/:user and /repositories/:id/members/:user. */
export const OrgMemberParams = z.object({ name: z.string().min(1).max(100), user: userName });
export const RepoMemberParams = z.object({ id, user: userName });
export const SetRole = z.strictObject({ role: z.enum(["viewer", "developer", "maintainer", "admin"]) });

/** POST /tokens and POST /organizations/:name/tokens: scopes as a list or one comma-separated string. */
export const CreateToken = z.strictObject({
  name: z.string().min(1).max(100),
  scopes: z.union([z.array(z.string().max(50)).max(20), z.string().max(500)]),
  days: z.number().int().min(1).max(366).optional(),
});
export const OrgTokenParams = z.object({ name: z.string().min(1).max(100), id });

/** A user as the API shows one. */
export interface UserView {
  id: number;
  name: string;
  displayName: string;
  email: string | null;
  disabled: boolean;
  serverAdmin: boolean;
  hasPassword: boolean;
  mfa: boolean;
  createdAt: string;
}
export type CreateUserBody = z.infer<typeof CreateUser>;
export type UpdateUserBody = z.infer<typeof UpdateUser>;
export type CreateTokenBody = z.infer<typeof CreateToken>;

// ---------------------------------------------------------------- single sign-on (/api/v1/auth)

/** /auth/oidc/:provider/…: a configured OpenID Connect provider's id. */
export const OidcParams = z.object({ provider: z.string().min(1).max(40) });
/** /auth/oauth/:forge/…: a configured forge (github, gitlab, bitbucket; anything else is 404). */
export const ForgeParams = z.object({ forge: z.string().min(1).max(40) });
/** …/start: where to go afterwards, a path under the public URL (anything else means "/"). */
export const SsoStartQuery = z.object({ return: z.string().max(2048).optional() });
/** …/callback: the provider's authorization response (RFC 6749 4.1.2, RFC 9207), checked by auth/. */
export const SsoCallbackQuery = z.object({
  code: z.string().optional(),
  state: z.string().optional(),
  iss: z.string().optional(),
  error: z.string().optional(),
  error_description: z.string().optional(),
});
