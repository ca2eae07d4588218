// Public face of the forge status reporter: commit statuses for each workflow run, queued by a
// trigger on runs (migration 027) and sent to GitHub, GitLab, Gitea/Forgejo or Bitbucket by the
// orchestrator with the repository's sealed forge token (docs/architecture.md, "Results back to
// the forge").
export {
  FORGE_KINDS,
  apiUrlFor,
  cloneHost,
  forgeServerUrl,
  forgeState,
  kindOfHost,
  resolveForge,
  statusRequest,
  type ForgeKind,
  type ForgeSettings,
  type ResolvedForge,
  type RunPhase,
  type StatusFacts,
  type StatusRequest,
} from "./forges.js";
export { latestOfRun, type RunForgeStatus } from "./outbox.js";
export {
  createForgeStatusSender,
  type ForgeStatusOptions,
  type ForgeStatusSender,
  type SenderDeps,
} from "./sender.js";
