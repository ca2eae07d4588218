// What a delivery describes (src/sources/fingerprint.ts): equal for a replay of the same signed
// body, whatever its delivery id; different for every genuinely new event — another head, another
// action, or the same action again later (the forge's updated_at moves); equal across providers'
// parsing of one body.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  deliveryFingerprint,
  parseWebhookEvents,
  type Provider,
  type SourceEvent,
} from "../../src/sources/index.js";
import { fixture, githubExamples, signed } from "./helpers.js";

function events(
  event: string,
  payload: Record<string, unknown>,
  delivery: string,
  provider: Provider = "github",
): SourceEvent[] {
  const body = Buffer.from(JSON.stringify(payload));
  const parsed = parseWebhookEvents(provider, signed(provider, event, body, { delivery }));
  assert.ok(Array.isArray(parsed), JSON.stringify(parsed));
  return parsed;
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A fixture's payload with `change` applied to a copy. */
function fixtureWith(name: string, change: (p: Json) => void): Json {
  const p = JSON.parse(fixture(name).toString()) as Json;
  change(p);
  return p;
}

describe("deliveryFingerprint", () => {
  const push = githubExamples("push")[0]!;

  it("repository_dispatch: the same body in two deliveries is two events (nothing in it differs)", () => {
    const dispatch = githubExamples("repository_dispatch")[0]!;
    const a = deliveryFingerprint(events("repository_dispatch", dispatch, "d-1"));
    const b = deliveryFingerprint(events("repository_dispatch", dispatch, "d-2"));
    assert.notEqual(a, b);
    assert.equal(a, deliveryFingerprint(events("repository_dispatch", dispatch, "d-1")));
    // A push replayed under a new id stays the same digest (the delivery id counts for dispatches only).
    assert.equal(
      deliveryFingerprint(events("push", push, "p-1")),
      deliveryFingerprint(events("push", push, "p-2")),
    );
  });
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

  it("differs for a tag deleted and pushed again at the same commit (GitHub's pushed_at moves)", () => {
    const tag = { ...push, ref: "refs/tags/v1", before: "0".repeat(40), created: true, forced: false };
    const at = (pushedAt: number) => ({
      ...tag,
      repository: { ...(push.repository as object), pushed_at: pushedAt },
    });
    const first = deliveryFingerprint(events("push", at(1_700_000_000), "a"));
    assert.notEqual(deliveryFingerprint(events("push", at(1_700_000_600), "b")), first);
    assert.equal(deliveryFingerprint(events("push", at(1_700_000_000), "c")), first, "a replay");
  });

  it("differs for a merge request closed again at the same head (GitLab's updated_at, carried over)", () => {
    const closed = (updatedAt: string) =>
      fixtureWith("gitlab-merge-request.json", (p) => {
        p.object_attributes.action = "close";
        p.object_attributes.updated_at = updatedAt;
      });
    const [first] = events("Merge Request Hook", closed("2026-01-01T00:00:00Z"), "a", "gitlab");
    assert.equal(
      first?.payload.pull_request && (first.payload.pull_request as Json).updated_at,
      "2026-01-01T00:00:00Z",
    );
    const again = events("Merge Request Hook", closed("2026-01-02T00:00:00Z"), "b", "gitlab");
    assert.notEqual(deliveryFingerprint(again), deliveryFingerprint([first!]));
    const replay = events("Merge Request Hook", closed("2026-01-01T00:00:00Z"), "c", "gitlab");
    assert.equal(deliveryFingerprint(replay), deliveryFingerprint([first!]));
  });

  it("differs for Bitbucket and Gitea events at the same commit that the forge dated differently", () => {
    const bb = (updatedOn: string) =>
      fixtureWith("bitbucket-pull-request.json", (p) => (p.pullrequest.updated_on = updatedOn));
    const fp = (e: string, p: Json, provider: Provider) => deliveryFingerprint(events(e, p, "x", provider));
    assert.notEqual(
      fp("pullrequest:fulfilled", bb("2026-01-01T00:00:00+00:00"), "bitbucket"),
      fp("pullrequest:fulfilled", bb("2026-01-02T00:00:00+00:00"), "bitbucket"),
    );
    const gitea = (updatedAt: string) =>
      fixtureWith("gitea-push.json", (p) => {
        p.before = "0".repeat(40);
        p.repository.updated_at = updatedAt;
      });
    assert.notEqual(
      fp("push", gitea("2026-01-01T00:00:00Z"), "gitea"),
      fp("push", gitea("2026-01-02T00:00:00Z"), "gitea"),
    );
  });
});
