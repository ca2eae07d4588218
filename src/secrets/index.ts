// Public face of secrets (issue 8): the KMS providers (local key file, PKCS#11), envelope
// encryption, organization data keys (rotation, crypto-shredding), the sealed secret store, plain
// variables, the run resolver with GitHub's precedence, per-run keys, and secret references in
// workflow text. No HTTP here: src/server maps the API onto these; the CLI calls rotateKms.
export {
  openKms,
  Redacted,
  type Kms,
  type KmsProvider,
  type KmsSettings,
  type OpenKmsOptions,
  type WrappedKey,
} from "./kms/index.js";
export { aad, type Binding, type Purpose } from "./envelope.js";
export {
  LIMITS,
  MAX_ENVIRONMENT_CHARS,
  MAX_NAME_CHARS,
  MAX_VALUE_BYTES,
  checkEnvironment,
  checkName,
  nameProblems,
  type Kind,
  type Level,
} from "./names.js";
export {
  describeScope,
  environmentScope,
  levelOf,
  organizationScope,
  repositoryScope,
  inTransaction,
  type Db,
  type Scope,
} from "./scope.js";
export { checkKmsHoldsKeys, destroyOrganizationKey, kmsKeysInUse, liveOrganizationKey } from "./org-keys.js";
export { deleteSecret, getSecret, listSecrets, readSecret, setSecret, type SecretInfo } from "./store.js";
export { deleteVariable, getVariable, listVariables, setVariable, type VariableInfo } from "./variables.js";
export {
  environmentSecrets,
  environmentVars,
  secretNamesForRun,
  secretsForRun,
  varsForRun,
  type RunScope,
} from "./resolve.js";
export { createRunKey, openRunKey, sealForRun, unsealForRun, type RunKey } from "./run-keys.js";
export { retireUnusedKeys, rotateKms, type RotationOptions, type RotationReport } from "./rotate.js";
export {
  credentialOf,
  putCredential,
  sealLegacyWebhookSecrets,
  webhookSecretOf,
  CREDENTIAL_KINDS,
  type CredentialKind,
} from "./credentials.js";
export {
  SETTABLE_KINDS,
  checkSourceCredential,
  deleteSourceCredential,
  forgeTokenOf,
  gitAuthOf,
  listSourceCredentials,
  sealLegacyCloneUrls,
  setSourceCredential,
  splitCloneUrl,
  type CredentialInfo,
  type SettableKind,
  type SourceCredential,
} from "./source-credentials.js";
export { missingSecrets, missingSecretsWarning, referencedSecrets } from "./references.js";
export {
  openForOrganization,
  sealForOrganization,
  type OrgSealed,
  type OrgSealedPlace,
} from "./org-sealed.js";
export { openRunValue, sealRunValue, type RunKeyBinding } from "./run-keys.js";
export {
  RELEASE_TOKEN_PREFIX,
  SOURCE_CREDENTIAL_NAME,
  issueReleaseTokens,
  redeemRelease,
  type Release,
} from "./release.js";
