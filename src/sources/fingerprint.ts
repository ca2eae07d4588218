// What a delivery describes, as one digest: its repository's event, action, refs, commits, pull
// request and the forge's own time of the event — what decides which work it starts. Forges sign
// the body but not the delivery id (GitHub's X-GitHub-Delivery is a header outside the signature),
// so a captured signed delivery replayed under a new id would verify again; recording this digest
// per repository makes the replay a duplicate (src/orchestrator/catalog/webhooks.ts).
//
// Genuine deliveries differ: a push moves `before`/`after`, a pull request event names its action
// and head commit, and where both repeat — a tag deleted and pushed again at the same commit, a
// pull request closed and reopened twice — the time the forge signs differs (`updatedAt`: GitHub's
// `repository.pushed_at` and pull requests' `updated_at`, GitLab's merge request `updated_at`,
// Bitbucket's `updated_on`, Gitea's repository or pull request `updated_at`).
//
// Residual risk: some deliveries carry no such time (GitLab and Bitbucket pushes; Gitea pushes
// when the repository's `updated_at` did not move). Two genuine ones describing the same work
// (the same ref pushed to the same commit again) would be one replay of the other, so a digest is
// a duplicate only within DEDUP_WINDOW_DAYS of the first: later, the same push is accepted again,
// and so is a captured delivery replayed after the window. docs/security.md.
//
// repository_dispatch bodies hold nothing that tells two genuine dispatches apart (no commit, no
// time): the same event type sent twice is routine (a nightly trigger). Its digest includes the
// delivery id, so each delivery counts; a captured one replayed under a new id runs again — the
// default branch's own workflows with the payload it already had once (docs/security.md).
import { createHash } from "node:crypto";
import type { SourceEvent } from "./types.js";

/** How long a recorded digest makes the same one a duplicate. */
export const DEDUP_WINDOW_DAYS = 7;

/** The digest of what the events of one delivery describe (hex SHA-256). */
export function deliveryFingerprint(events: readonly SourceEvent[]): string {
  const described = events.map((e) => [
    e.provider,
    e.event,
    e.action ?? null,
    e.ref ?? null,
    e.before ?? null,
    e.commit ?? null,
    e.baseRef ?? null,
    e.deleted ?? null,
    e.pullRequest?.number ?? null,
    e.updatedAt ?? null,
    e.event === "repository_dispatch" ? e.deliveryId : null,
  ]);
  return createHash("sha256").update(JSON.stringify(described)).digest("hex");
}
