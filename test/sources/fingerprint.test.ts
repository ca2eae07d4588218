// What a delivery describes (src/sources/fingerprint.ts): equal for a replay of the same signed
// body, whatever its delivery id; different for every genuinely new event — another head, another
// action, or the same action again later (the forge's updated_at moves); equal across providers'
// parsing of one body.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { deliveryFingerprint, parseWebhookEvents, type SourceEvent } from "../../src/sources/index.js";
import { githubExamples, signed } from "./helpers.js";

function events(event: string, payload: Record<string, unknown>, delivery: string): SourceEvent[] {
  const body = Buffer.from(JSON.stringify(payload));
  const parsed = parseWebhookEvents("github", signed("github", event, body, { delivery }));
  assert.ok(Array.isArray(parsed), JSON.stringify(parsed));
  return parsed;
}

describe("deliveryFingerprint", () => {
  const push = githubExamples("push")[0]!;
  const pr = githubExamples("pull_request").find((p) => p.action === "opened")!;
  const prOf = (o: Record<string, unknown>) => ({
    ...pr,
    ...o,
    pull_request: { ...(pr.pull_request as object), ...((o.pull_request as object) ?? {}) },
  });

  it("is the same for a replay under another delivery id", () => {
    assert.equal(
      deliveryFingerprint(events("push", push, "a")),
      deliveryFingerprint(events("push", push, "b")),
    );
    assert.equal(
      deliveryFingerprint(events("pull_request", pr, "a")),
      deliveryFingerprint(events("pull_request", pr, "b")),
    );
  });

  it("differs for new work", () => {
    const base = deliveryFingerprint(events("push", push, "a"));
    const moved = { ...push, after: "f".repeat(40) };
    assert.notEqual(deliveryFingerprint(events("push", moved, "a")), base);
    assert.notEqual(deliveryFingerprint(events("push", { ...push, ref: "refs/heads/other" }, "a")), base);
    const opened = deliveryFingerprint(events("pull_request", pr, "a"));
    const synced = prOf({ action: "synchronize" });
    assert.notEqual(deliveryFingerprint(events("pull_request", synced, "a")), opened);
    const edited1 = prOf({ action: "edited", pull_request: { updated_at: "2026-01-01T00:00:00Z" } });
    const edited2 = prOf({ action: "edited", pull_request: { updated_at: "2026-01-01T00:05:00Z" } });
    assert.notEqual(
      deliveryFingerprint(events("pull_request", edited1, "a")),
      deliveryFingerprint(events("pull_request", edited2, "b")),
      "the same action again later",
    );
  });
});
