// The webhook endpoint over a real database: signatures checked over the raw body before anything
// is stored, delivery ids de-duplicated, bodies capped before hashing, ignored events, and the
// core called with the parsed event. Payloads are real (GitHub's from @octokit/webhooks-examples).
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { MAX_WEBHOOK_BODY_BYTES, type Provider } from "../../src/sources/index.js";
import { fixture, githubExamples, signed } from "../sources/helpers.js";
import { startTestServer, type TestServer } from "./helpers.js";

let s: TestServer;
let repoId: number;
let secret: string;

before(async () => {
  s = await startTestServer();
  const res = await s.app.inject({
    method: "POST",
    url: "/api/v1/repositories",
    headers: s.auth,
    payload: { name: "octo/hello", cloneUrl: "https://git.example.test/octo/hello.git" },
  });
  repoId = JSON.parse(res.body).id;
  secret = JSON.parse(res.body).webhookSecret;
});
after(async () => {
  await s?.close();
});
beforeEach(() => {
  s.runs.events = [];
  s.runs.fail = undefined;
});

const pushExample = githubExamples("push")[0] as Record<string, unknown>;
const pushBody = Buffer.from(JSON.stringify(pushExample));
/** Another genuine push: a different new head (a replay of pushBody would be a duplicate). */
const pushTo = (n: number): Buffer =>
  Buffer.from(JSON.stringify({ ...pushExample, after: n.toString(16).padStart(40, "0") }));

function deliver(
  provider: Provider,
  event: string,
  body: Buffer,
  opts: { secret?: string; delivery?: string; headers?: Record<string, string>; repo?: number } = {},
) {
  const req = signed(provider, event, body, { secret: opts.secret ?? secret, ...opts });
  return s.app.inject({
    method: "POST",
    url: `/api/v1/webhooks/${provider}/${opts.repo ?? repoId}`,
    headers: req.headers as Record<string, string>,
    payload: body,
  });
}

async function deliveries(): Promise<string[]> {
  const { rows } = await s.db.pool.query<{ delivery_id: string }>(
    "SELECT delivery_id FROM webhook_deliveries ORDER BY received_at, delivery_id",
  );
  return rows.map((r) => r.delivery_id);
}

describe("webhooks", () => {
  it("accepts a signed GitHub push and hands the parsed event to the core", async () => {
    const res = await deliver("github", "push", pushBody, { delivery: "gh-1" });
    assert.equal(res.statusCode, 202);
    assert.equal(JSON.parse(res.body).runs.length, 1);
    assert.equal(s.runs.events.length, 1);
    const call = s.runs.events[0];
    assert.equal(call?.repositoryId, repoId);
    assert.equal(call?.trigger, "webhook");
    assert.equal(call?.event.event, "push");
    assert.equal(call?.event.deliveryId, "gh-1");
    assert.ok((await deliveries()).includes("gh-1"));
  });

  it("refuses a wrong or missing signature with 401 and stores nothing", async () => {
    const before = await deliveries();
    const wrong = await deliver("github", "push", pushBody, { delivery: "gh-bad", secret: "not-the-secret" });
    assert.equal(wrong.statusCode, 401);
    assert.equal(JSON.parse(wrong.body).error.code, "WEBHOOK_UNAUTHORIZED");
    const unsigned = await s.app.inject({
      method: "POST",
      url: `/api/v1/webhooks/github/${repoId}`,
      headers: {
        "content-type": "application/json",
        "x-github-event": "push",
        "x-github-delivery": "gh-none",
      },
      payload: pushBody,
    });
    assert.equal(unsigned.statusCode, 401);
    const gitlab = await deliver("gitlab", "Push Hook", fixture("gitlab-push.json"), {
      delivery: "gl-bad",
      secret: "wrong",
    });
    assert.equal(gitlab.statusCode, 401);
    assert.deepEqual(await deliveries(), before);
    assert.equal(s.runs.events.length, 0);
  });

  it("treats the same delivery id twice as a no-op", async () => {
    const first = await deliver("github", "push", pushTo(1), { delivery: "gh-dup" });
    assert.equal(first.statusCode, 202);
    const second = await deliver("github", "push", pushTo(1), { delivery: "gh-dup" });
    assert.equal(second.statusCode, 200);
    assert.deepEqual(JSON.parse(second.body), { duplicate: true });
    assert.equal(s.runs.events.length, 1);
  });

  it("treats a signed delivery replayed under a new id as a duplicate of what it describes", async () => {
    const first = await deliver("github", "push", pushTo(4), { delivery: "gh-orig" });
    assert.equal(first.statusCode, 202);
    for (const id of ["gh-replay-1", "gh-replay-2"]) {
      const replay = await deliver("github", "push", pushTo(4), { delivery: id });
      assert.equal(replay.statusCode, 200, replay.body);
      assert.deepEqual(JSON.parse(replay.body), { duplicate: true });
    }
    assert.equal(s.runs.events.length, 1, "the replays started nothing");
    // Real new work (another head) is not a duplicate, and neither is the same push to another
    // repository (fingerprints are per repository).
    assert.equal((await deliver("github", "push", pushTo(5), { delivery: "gh-next" })).statusCode, 202);
    const other = await s.app.inject({
      method: "POST",
      url: "/api/v1/repositories",
      headers: s.auth,
      payload: { name: "octo/other", cloneUrl: "https://git.example.test/octo/other.git" },
    });
    const o = JSON.parse(other.body) as { id: number; webhookSecret: string };
    const there = await deliver("github", "push", pushTo(4), {
      delivery: "gh-other",
      repo: o.id,
      secret: o.webhookSecret,
    });
    assert.equal(there.statusCode, 202, there.body);
    assert.equal(s.runs.events.length, 3);
  });

  it("accepts a tag deleted and pushed again at the same commit; a replay is a duplicate within the window only", async () => {
    const tagPush = (pushedAt: number, deleted = false): Buffer =>
      Buffer.from(
        JSON.stringify({
          ...pushExample,
          ref: "refs/tags/v9",
          before: deleted ? "c".repeat(40) : "0".repeat(40),
          after: deleted ? "0".repeat(40) : "c".repeat(40),
          created: !deleted,
          deleted,
          repository: { ...(pushExample.repository as object), pushed_at: pushedAt },
        }),
      );
    const status = async (body: Buffer, delivery: string) =>
      (await deliver("github", "push", body, { delivery })).statusCode;
    assert.equal(await status(tagPush(1_800_000_000), "tag-1"), 202);
    assert.equal(await status(tagPush(1_800_000_100, true), "tag-del"), 200);
    assert.equal(await status(tagPush(1_800_000_200), "tag-2"), 202, "pushed again: new work");
    assert.equal(await status(tagPush(1_800_000_000), "tag-1-replay"), 200, "a replay: duplicate");
    // Two copies at once: one wins (the check and the insert are serialised per fingerprint).
    const both = await Promise.all([
      status(tagPush(1_800_000_300), "tag-3a"),
      status(tagPush(1_800_000_300), "tag-3b"),
    ]);
    assert.deepEqual(both.sort(), [200, 202]);
    assert.equal(s.runs.events.length, 3);
    // Residual risk (docs/security.md): after the window the same body is accepted again.
    await s.db.pool.query(
      "UPDATE webhook_deliveries SET received_at = received_at - interval '8 days' WHERE delivery_id = 'tag-1'",
    );
    assert.equal(await status(tagPush(1_800_000_000), "tag-1-late"), 202);
  });

  it("caps the body before hashing: 413, nothing stored", async () => {
    const before = await deliveries();
    const huge = Buffer.alloc(MAX_WEBHOOK_BODY_BYTES + 1, 0x20);
    const res = await s.app.inject({
      method: "POST",
      url: `/api/v1/webhooks/github/${repoId}`,
      headers: {
        "content-type": "application/json",
        "x-github-event": "push",
        "x-github-delivery": "gh-huge",
        "x-hub-signature-256": `sha256=${"0".repeat(64)}`,
      },
      payload: huge,
    });
    assert.equal(res.statusCode, 413);
    assert.equal(JSON.parse(res.body).error.code, "PAYLOAD_TOO_LARGE");
    assert.deepEqual(await deliveries(), before);
  });

  it("answers ignored events with 200 and does not call the core", async () => {
    const ping = await deliver("github", "ping", Buffer.from('{"zen":"Keep it logically awesome."}'), {
      delivery: "gh-ping",
    });
    assert.equal(ping.statusCode, 200);
    assert.deepEqual(JSON.parse(ping.body), { ignored: "ping" });
    const issues = await deliver("github", "issues", Buffer.from("{}"), { delivery: "gh-issues" });
    assert.equal(issues.statusCode, 200);
    assert.match(JSON.parse(issues.body).ignored, /issues/);
    assert.equal(s.runs.events.length, 0);
  });

  it("accepts GitLab, Gitea and Bitbucket pushes signed their way", async () => {
    const cases: Array<[Provider, string, string]> = [
      ["gitlab", "Push Hook", "gitlab-push.json"],
      ["gitea", "push", "gitea-push.json"],
      ["bitbucket", "repo:push", "bitbucket-push.json"],
    ];
    for (const [provider, event, file] of cases) {
      const res = await deliver(provider, event, fixture(file), { delivery: `${provider}-1` });
      assert.equal(res.statusCode, 202, `${provider}: ${res.body}`);
    }
    // The Bitbucket fixture pushes two refs at once: one delivery, two events, each handed over.
    assert.deepEqual(
      s.runs.events.map((e) => e.event.provider),
      ["gitlab", "gitea", "bitbucket", "bitbucket"],
    );
    assert.equal(s.runs.events[2]?.event.deliveryId, "bitbucket-1");
    assert.match(s.runs.events[3]?.event.deliveryId ?? "", /^bitbucket-1#/);
  });

  it("accepts a form-encoded GitHub delivery (the signature covers the raw body)", async () => {
    const body = Buffer.from(`payload=${encodeURIComponent(pushTo(2).toString())}`);
    const res = await deliver("github", "push", body, {
      delivery: "gh-form",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    assert.equal(res.statusCode, 202, res.body);
    assert.equal(s.runs.events.length, 1);
  });

  it("answers an unknown repository exactly as a wrong signature, and 400 for an unknown provider, storing nothing", async () => {
    const before = await deliveries();
    // Signed with the right secret of another repository, or with any secret: an unauthenticated
    // caller cannot tell an unknown repository id from a known one.
    for (const provider of ["github", "gitlab", "gitea", "bitbucket"] as const) {
      const unknown = await deliver(provider, "push", pushBody, {
        delivery: `x-404-${provider}`,
        repo: 987654,
      });
      const wrong = await deliver(provider, "push", pushBody, {
        delivery: `x-401-${provider}`,
        secret: "not-the-secret",
      });
      assert.equal(unknown.statusCode, 401, provider);
      assert.equal(unknown.statusCode, wrong.statusCode, provider);
      assert.equal(unknown.body, wrong.body, provider);
    }
    const res = await s.app.inject({
      method: "POST",
      url: `/api/v1/webhooks/sourceforge/${repoId}`,
      headers: { "content-type": "application/json" },
      payload: "{}",
    });
    assert.equal(res.statusCode, 400);
    assert.equal(JSON.parse(res.body).error.details[0].path, "params.provider");
    assert.deepEqual(await deliveries(), before);
  });

  it("answers a signed but malformed payload with 400 and stores nothing", async () => {
    const before = await deliveries();
    const res = await deliver("github", "push", Buffer.from("[1, 2"), { delivery: "gh-garbage" });
    assert.equal(res.statusCode, 400);
    assert.equal(JSON.parse(res.body).error.code, "WEBHOOK_INVALID");
    assert.deepEqual(await deliveries(), before);
  });

  it("forgets a delivery the core failed on, so the redelivery is processed", async () => {
    s.runs.fail = new Error("boom");
    const failed = await deliver("github", "push", pushTo(3), { delivery: "gh-retry" });
    assert.equal(failed.statusCode, 500);
    assert.equal(JSON.parse(failed.body).error.code, "INTERNAL");
    assert.ok(!(await deliveries()).includes("gh-retry"));
    s.runs.fail = undefined;
    const again = await deliver("github", "push", pushTo(3), { delivery: "gh-retry" });
    assert.equal(again.statusCode, 202);
    assert.equal(s.runs.events.length, 1);
  });
});
