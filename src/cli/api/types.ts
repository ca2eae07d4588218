// Shapes of the REST API v1 responses and request bodies. The server owns them: they are
// re-exported here type-only (erased at build time, so the CLI bundle does not pull in the
// server), and a change on the server side is a compile error here rather than silent drift.
export type {
  CreatedRepository,
  Flavour,
  Image,
  ListedNode,
  Node,
  Organization,
  Repository,
  RepositoryForge,
} from "../../orchestrator/catalog/index.js";
export type {
  Job,
  LogStreamChunk,
  LogStreamEnd,
  Run,
  RunDetail,
  Step,
} from "../../orchestrator/views/index.js";
export type { RunSummary } from "../../orchestrator/types.js";
export type {
  AuditEntryView,
  CreateTokenBody,
  CreateUserBody,
  UpdateUserBody,
  UserView,
  CreateFlavourBody,
  CreateImageBody,
  CreateNodeRegistrationBody,
  CreateOrganizationBody,
  CreateRepositoryBody,
  NewNodeRegistration,
  NodeRegistration,
  ReissuedNodeCredential,
  RepositoryEgressBody,
  UpdateRepositoryBody,
  TriggerRunBody,
  TriggerRunResponse,
  DispatchRunBody,
} from "../../server/schemas.js";
export type { ApiTokenInfo, GrantView } from "../../auth/index.js";
export type { CredentialInfo, SecretInfo, SettableKind, VariableInfo } from "../../secrets/index.js";
export type { SetCredentialBody } from "../../server/schemas-credentials.js";
export type { RepositoryForgeBody } from "../../server/schemas-forge.js";
export type { RunArtifactView as RunArtifact } from "../../server/schemas-artifacts.js";
