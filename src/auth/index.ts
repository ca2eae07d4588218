// Identity (issue 7): password hashing and policy, TOTP, recovery codes, login throttling, API
// token format and scopes (pure modules), the user, session and token stores, and single sign-on
// (OpenID Connect and forge OAuth). No HTTP here; the server maps HTTP onto these. Other modules
// import only from here.
export {
  ARGON2_MEMORY_KIB,
  ARGON2_PARALLELISM,
  ARGON2_TIME_COST,
  MAX_PASSWORD_CHARS,
  dummyVerify,
  hashPassword,
  verifyPassword,
  type VerifyResult,
} from "./password.js";
export {
  MIN_PASSWORD_CHARS,
  checkNewPassword,
  type PasswordCheck,
  type PasswordRefusal,
} from "./password-policy.js";
export {
  TOTP_DIGITS,
  TOTP_DRIFT_STEPS,
  TOTP_PERIOD_SECONDS,
  newTotpSecret,
  otpauthUri,
  totpCode,
  totpStep,
  verifyTotp,
  type TotpResult,
} from "./totp.js";
export {
  DEFAULT_RECOVERY_CODES,
  consumeRecoveryCode,
  newRecoveryCodes,
  type RecoveryCodes,
} from "./recovery.js";
export {
  NODE_TOKEN_KINDS,
  TOKEN_KINDS,
  hashTokenSecret,
  newApiToken,
  newNodeToken,
  parseApiToken,
  parseNodeToken,
  verifyTokenSecret,
  type NewApiToken,
  type NodeTokenKind,
  type ParsedApiToken,
  type TokenKind,
} from "./tokens.js";
export { SCOPES, hasScope, isScope, parseScopes, type Scope } from "./scopes.js";
export {
  MemoryFailureLimiter,
  type Decision,
  type FailureLimiter,
  type FailurePolicy,
  type MemoryLimiterOptions,
} from "./throttle.js";
export {
  ACCOUNT_POLICY,
  ADDRESS_POLICY,
  CLIENT_POLICY,
  LoginThrottle,
  accountKey,
  addressKey,
  rateLimitedError,
  type LoginAttempt,
  type LoginDecision,
} from "./login-throttle.js";
export {
  ADMIN_USER,
  checkUserName,
  createUser,
  deleteUser,
  ensureAdminUser,
  rotateAdminPassword,
  findUserByName,
  getUser,
  passwordHashOf,
  setPassword,
  setUserDisabled,
  upgradePasswordHash,
  writeSecretFile,
  type AdminBootstrap,
  type NewUser,
  type User,
} from "./users.js";
export {
  ABSOLUTE_MS,
  CSRF_HEADER,
  IDLE_MS,
  SESSION_COOKIE,
  checkCsrf,
  createSession,
  csrfTokenFor,
  endAllSessions,
  endSession,
  lookupSession,
  rotateSession,
  type NewSession,
  type Session,
} from "./sessions.js";
export {
  LOGIN_FAILED,
  SECOND_FACTOR_FAILED,
  beginTotp,
  confirmTotp,
  passwordLogin,
  secondFactor,
  type LoginResult,
} from "./login.js";
export {
  DEFAULT_TOKEN_DAYS,
  MAX_TOKEN_DAYS,
  authenticateApiToken,
  createApiToken,
  listApiTokens,
  revokeApiToken,
  type ApiTokenInfo,
  type NewTokenInput,
  type TokenPrincipal,
} from "./api-tokens.js";
export {
  PERMISSIONS,
  ROLES,
  isPermission,
  isRole,
  permissionRule,
  roleAllows,
  roleRank,
  strongerRole,
  type Level,
  type Permission,
  type PermissionRule,
  type Role,
} from "./roles.js";
export {
  Access,
  heldPermissions,
  loadAccess,
  type Grant,
  type Owner,
  type Principal,
  type Verdict,
  type Visible,
} from "./access.js";
export { checkRole, listGrants, removeGrant, setGrant, type GrantView } from "./grants.js";
export { clearTotp, keepOneServerAdmin, listUsers, updateUser, type UserChanges } from "./user-admin.js";
export {
  DEFAULT_OIDC_ALGORITHMS,
  DEFAULT_OIDC_SCOPES,
  DEFAULT_SSO_SETTINGS,
  FORGES,
  OIDC_ALGORITHMS,
  type ExternalIdentity,
  type ForgeKind,
  type ForgeSettings,
  type GroupGrant,
  type OidcAlgorithm,
  type OidcSettings,
  type SsoSettings,
} from "./sso-types.js";
export { FORGE_DEFAULTS } from "./forges.js";
export { OIDC_CLOCK_TOLERANCE_S, OidcClient, isLoopbackUrl, type OidcClientOptions } from "./oidc.js";
export { PENDING_LOGIN_MS, safeReturnPath } from "./pending-logins.js";
export { baseUserName, findOrCreateExternalUser, type ExternalUser } from "./external-users.js";
export { applyGroupMapping, desiredGrants, type MappingResult } from "./role-mapping.js";
export {
  SSO_FAILED,
  START_POLICY,
  SingleSignOn,
  type ProviderKind,
  type SsoLogin,
  type SsoOptions,
  type SsoProvider,
} from "./sso.js";
