// Public face of the built-in git job source: webhook verification and normalisation (pure
// functions, one file per provider), a bare git mirror per repository on the orchestrator host,
// workflow discovery at a commit, and the polling helper for repositories without webhooks.
export type { Provider, WebhookRequest, SourceEvent, PullRequestInfo, Ignored } from "./types.js";
export { MAX_WEBHOOK_BODY_BYTES, PROVIDERS } from "./types.js";
export { verifyWebhook, parseWebhook, parseWebhookEvents } from "./webhooks.js";
export { openMirror, type RepoMirror, type MirrorOptions } from "./mirror.js";
export { workflowsAt, pollRepository, WORKFLOW_DIRS, type WorkflowFiles } from "./workflows.js";
export { deliveryFingerprint, DEDUP_WINDOW_DAYS } from "./fingerprint.js";
