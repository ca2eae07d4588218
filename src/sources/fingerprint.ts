// What a delivery describes, as one digest: its repository's event, action, refs, commits and pull
// request — what decides which work it starts. Forges sign the body but neither a timestamp nor the
// delivery id (GitHub's X-GitHub-Delivery is a header outside the signature), so a captured signed
// delivery replayed under a new id would verify again; recording this digest per repository makes
// the replay a duplicate. Genuine deliveries differ: a push moves `before`/`after`, a pull request
// event names its action and head commit, and an event that repeats both (edited, labeled) carries
// the pull request's `updated_at`, which the forge changes every time and a replay cannot.
import { createHash } from "node:crypto";
import type { SourceEvent } from "./types.js";

function field(o: unknown, ...path: string[]): unknown {
  let v = o;
  for (const k of path)
    v = v !== null && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined;
  return typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? v : null;
}

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
    field(e.payload, "pull_request", "updated_at"),
    field(e.payload, "merge_request", "updated_at"),
    field(e.payload, "release", "id"),
    field(e.payload, "release", "updated_at"),
  ]);
  return createHash("sha256").update(JSON.stringify(described)).digest("hex");
}
