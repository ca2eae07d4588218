// Typed errors with stable codes. Tests assert on `code`, never on message text.

export const ErrorCode = {
  WORKFLOW_INVALID: "WORKFLOW_INVALID",
  WORKFLOW_NOT_FOUND: "WORKFLOW_NOT_FOUND",
  /** A local workflow or action file is a symlink (or under one) that leads out of the repository. */
  PATH_OUTSIDE_REPOSITORY: "PATH_OUTSIDE_REPOSITORY",
  EXPRESSION_INVALID: "EXPRESSION_INVALID",
  EXPRESSION_FAILED: "EXPRESSION_FAILED",
  ACTION_NOT_FOUND: "ACTION_NOT_FOUND",
  ACTION_INVALID: "ACTION_INVALID",
  ACTION_FETCH_FAILED: "ACTION_FETCH_FAILED",
  ACTION_UNSUPPORTED: "ACTION_UNSUPPORTED",
  SANDBOX_UNAVAILABLE: "SANDBOX_UNAVAILABLE",
  MACHINE_FAILED: "MACHINE_FAILED",
  MACHINE_PATH_ESCAPE: "MACHINE_PATH_ESCAPE",
  MACHINE_FILE_TOO_LARGE: "MACHINE_FILE_TOO_LARGE",
  /** The machine's provisioner cannot do what the job asks (job containers on a sandbox, ...). */
  MACHINE_UNSUPPORTED: "MACHINE_UNSUPPORTED",
  /** A container option or volume the pool does not allow (`--privileged`, host mounts, ...). */
  CONTAINER_OPTION_REFUSED: "CONTAINER_OPTION_REFUSED",
  /** A workflow image could not be pulled from the node's registry (credentials refused, no such image, TLS). */
  CONTAINER_PULL_FAILED: "CONTAINER_PULL_FAILED",
  /** The registry refused the credentials of `container:`/`services:` (or an anonymous pull). */
  REGISTRY_UNAUTHORIZED: "REGISTRY_UNAUTHORIZED",
  /** A container variable podman cannot pass as it is (a line break, longer than its env-file line). */
  CONTAINER_ENV_UNSUPPORTED: "CONTAINER_ENV_UNSUPPORTED",
  /** SSH: the host's key is not the pinned one (unknown or changed); the host is marked unhealthy. */
  HOST_KEY_MISMATCH: "HOST_KEY_MISMATCH",
  /** A machine's resource limits could not be put in place (cgroups, its filesystem). */
  LIMITS_UNAVAILABLE: "LIMITS_UNAVAILABLE",
  DB_FAILED: "DB_FAILED",
  MIGRATION_FAILED: "MIGRATION_FAILED",
  CONFIG_INVALID: "CONFIG_INVALID",
  /** The server's listen address is taken (another server on the port). */
  ADDRESS_IN_USE: "ADDRESS_IN_USE",
  USAGE: "USAGE",
  NOT_A_GIT_REPOSITORY: "NOT_A_GIT_REPOSITORY",
  ENV_FILE_INVALID: "ENV_FILE_INVALID",
  SHELL_UNSUPPORTED: "SHELL_UNSUPPORTED",
  WEBHOOK_UNAUTHORIZED: "WEBHOOK_UNAUTHORIZED",
  WEBHOOK_INVALID: "WEBHOOK_INVALID",
  WEBHOOK_TOO_LARGE: "WEBHOOK_TOO_LARGE",
  SOURCE_FETCH_FAILED: "SOURCE_FETCH_FAILED",
  SOURCE_REF_INVALID: "SOURCE_REF_INVALID",
  SOURCE_COMMIT_NOT_FOUND: "SOURCE_COMMIT_NOT_FOUND",
  /** API: missing or refused bearer token. */
  UNAUTHORIZED: "UNAUTHORIZED",
  /** API: authenticated, but not allowed (role, scope, missing CSRF token, second factor due). */
  FORBIDDEN: "FORBIDDEN",
  /** Auth: a password refused before hashing (not a string, or longer than any password we accept). */
  PASSWORD_INVALID: "PASSWORD_INVALID",
  /** Auth: an unknown or empty API token scope list. */
  SCOPE_INVALID: "SCOPE_INVALID",
  /** Auth: too many failures for this account or from this client; `details.retryAfterMs` says how long. */
  RATE_LIMITED: "RATE_LIMITED",
  /** Auth: a single sign-on login was refused (state, provider answer, ID token, user); one line, naming nothing. */
  SSO_FAILED: "SSO_FAILED",
  /** Auth: the OpenID provider or forge could not be reached or answered outside its contract. */
  SSO_PROVIDER_UNAVAILABLE: "SSO_PROVIDER_UNAVAILABLE",
  /** Auth: this way of logging in is switched off on this server (e.g. passwords when auth.builtinUsers is false). */
  LOGIN_METHOD_DISABLED: "LOGIN_METHOD_DISABLED",
  /** API: no such object. */
  NOT_FOUND: "NOT_FOUND",
  /** API: the object exists already or is in a state that forbids the change. */
  CONFLICT: "CONFLICT",
  /** CLI: the server could not be reached (connection refused, DNS, reset). */
  SERVER_UNREACHABLE: "SERVER_UNREACHABLE",
  /** CLI: the server answered with something outside the API contract. */
  API_FAILED: "API_FAILED",
  /** CLI: `runs trigger --wait` saw a run conclude other than success. */
  RUN_FAILED: "RUN_FAILED",
  /** API: the request body exceeds the size limit. */
  PAYLOAD_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  /** Sources: a file in a repository (a workflow) is larger than what is read of it. */
  FILE_TOO_LARGE: "FILE_TOO_LARGE",
  /** API: an unexpected failure inside the server (a bug); the message says no more than that. */
  INTERNAL: "INTERNAL",
  /** Images: a bad image name, package name, suite or variant (a user mistake: exit code 2). */
  IMAGE_INVALID: "IMAGE_INVALID",
  /** Images: no image of that name in the node's store. */
  IMAGE_NOT_FOUND: "IMAGE_NOT_FOUND",
  /** Images: removal refused while machines use the image's rootfs. */
  IMAGE_IN_USE: "IMAGE_IN_USE",
  /** Images: mmdebstrap or unpacking failed. */
  IMAGE_BUILD_FAILED: "IMAGE_BUILD_FAILED",
  /** Audit: the audit log's hash chain does not verify (an entry edited, removed, inserted, ...). */
  AUDIT_CHAIN_BROKEN: "AUDIT_CHAIN_BROKEN",
  /** Secrets: a bad secret or variable name, environment name, or too many of them at one level. */
  SECRET_INVALID: "SECRET_INVALID",
  /** Secrets: a secret or variable value larger than the cap (48 KB, as GitHub). */
  SECRET_TOO_LARGE: "SECRET_TOO_LARGE",
  /** Secrets: a ciphertext or wrapped key does not decrypt (tampered, moved to another row, wrong key). */
  SECRET_UNREADABLE: "SECRET_UNREADABLE",
  /** Secrets: the organization's data key was destroyed (crypto-shredded): what it sealed is gone. */
  KEY_DESTROYED: "KEY_DESTROYED",
  /** Secrets: the KMS does not hold the key a data key was wrapped under (retired, or another key file or token). */
  KMS_KEY_MISSING: "KMS_KEY_MISSING",
  /** Secrets: the KMS (key file, PKCS#11 module or token) failed or is unreachable. */
  KMS_FAILED: "KMS_FAILED",
  /** Secrets: a secret value shorter than the masking minimum (it would mask common text everywhere). */
  SECRET_TOO_SHORT: "SECRET_TOO_SHORT",
  /** Pools: a pool setting that cannot be (a low-trust deploy pool). */
  POOL_INVALID: "POOL_INVALID",
  /** Environments: a bad environment name or protection rule (reviewers, branch or tag patterns, wait timer). */
  ENVIRONMENT_INVALID: "ENVIRONMENT_INVALID",
  /** Job-source credentials: a bad clone password, deploy key or forge token, or one for the wrong kind of URL. */
  CREDENTIAL_INVALID: "CREDENTIAL_INVALID",
  /** Agent: the orchestrator speaks another agent protocol version (upgrade one side). */
  PROTOCOL_MISMATCH: "PROTOCOL_MISMATCH",
  /** Artifacts: a bad artifact name, block id, block list or request to the artifact service. */
  ARTIFACT_INVALID: "ARTIFACT_INVALID",
  /** Artifacts: a blob, block or upload larger than the service accepts. */
  ARTIFACT_TOO_LARGE: "ARTIFACT_TOO_LARGE",
  /** Artifacts: the size or SHA-256 the client declares at finalize is not what the store computed. */
  ARTIFACT_DIGEST_MISMATCH: "ARTIFACT_DIGEST_MISMATCH",
  /** Artifacts: the repository's artifact quota (finalized bytes) is reached or this upload would pass it. */
  ARTIFACT_QUOTA_EXCEEDED: "ARTIFACT_QUOTA_EXCEEDED",
  /** Artifacts: the repository's promotion policy refuses this artifact (its status or its run's trust tier). */
  ARTIFACT_NOT_PROMOTABLE: "ARTIFACT_NOT_PROMOTABLE",
  /** Artifacts: no blob of that digest in the store (deleted, or never written). */
  BLOB_NOT_FOUND: "BLOB_NOT_FOUND",
  /** Artifacts: a byte range outside the blob. */
  RANGE_NOT_SATISFIABLE: "RANGE_NOT_SATISFIABLE",
  /** Artifacts: the blob store's backend (an S3-compatible server) failed, refused the credentials or is unreachable. */
  BLOB_STORE_UNAVAILABLE: "BLOB_STORE_UNAVAILABLE",
  /** Archives: a zip or tar refused by a safety rule or limit; `details` = { entry, rule }. Nothing was written. */
  ARCHIVE_REJECTED: "ARCHIVE_REJECTED",
  /** Provenance: a provenance envelope, statement, key or policy file is not what it should be. */
  PROVENANCE_MALFORMED: "PROVENANCE_MALFORMED",
  /** Provenance: no signature verifies with the given key(s) (another key, or altered bytes). */
  PROVENANCE_SIGNATURE_INVALID: "PROVENANCE_SIGNATURE_INVALID",
  /** Provenance: the artifact's SHA-256 is not a subject of the (verified) provenance. */
  PROVENANCE_SUBJECT_MISMATCH: "PROVENANCE_SUBJECT_MISMATCH",
  /** Provenance: the verified provenance does not meet the policy. */
  PROVENANCE_POLICY_VIOLATION: "PROVENANCE_POLICY_VIOLATION",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface AirlockErrorOptions {
  retryable?: boolean;
  cause?: unknown;
  /** Extra structured detail (e.g. a list of validation problems). */
  details?: unknown;
}

export class AirlockError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, options: AirlockErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AirlockError";
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details;
  }
}

/** One problem found while validating a file: reported all together, never one at a time. */
export interface Problem {
  file: string;
  line: number;
  col: number;
  message: string;
}

export function formatProblem(p: Problem): string {
  return `${p.file}:${p.line}:${p.col}: ${p.message}`;
}

export function isAirlockError(err: unknown, code?: ErrorCode): err is AirlockError {
  return err instanceof AirlockError && (code === undefined || err.code === code);
}
