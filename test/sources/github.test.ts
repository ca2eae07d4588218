// GitHub deliveries normalised: every push, pull_request, ping, repository_dispatch and merge_group example from
// @octokit/webhooks-examples, signed with a test secret, verified and parsed.
import assert from "node:assert/strict";
import { test } from "node:test";
import { isAirlockError } from "../../src/errors/index.js";
import { parseWebhook, verifyWebhook, type SourceEvent } from "../../src/sources/index.js";
import { githubExamples, SECRET, signed } from "./helpers.js";

function deliver(event: string, payload: unknown): ReturnType<typeof parseWebhook> {
  const req = signed("github", event, JSON.stringify(payload));
  verifyWebhook("github", req, SECRET);
  return parseWebhook("github", req);
}

function asEvent(r: ReturnType<typeof parseWebhook>): SourceEvent {
  assert.ok(!("ignored" in r), `unexpectedly ignored: ${"ignored" in r ? r.ignored : ""}`);
  return r;
}

void test("push examples: created refs become events, deleted refs are ignored", () => {
  const examples = githubExamples("push");
  assert.ok(examples.length >= 4);
  let built = 0;
  for (const payload of examples) {
    const r = deliver("push", payload);
    if (payload.deleted === true) {
      assert.ok("ignored" in r);
      continue;
    }
    const ev = asEvent(r);
    built++;
    assert.equal(ev.provider, "github");
    assert.equal(ev.event, "push");
    assert.equal(ev.deliveryId, "72d3162e-cc78-11e3-81ab-4c9367dc0958");
    assert.equal(ev.ref, payload.ref);
    assert.equal(ev.commit, payload.after);
    assert.equal(ev.before, undefined); // created: the zero SHA is not a commit
    assert.equal(ev.changedFiles, undefined); // a new ref's commit list is not a diff
    assert.equal(ev.repository.fullName, "Codertocat/Hello-World");
    assert.deepEqual(ev.repository.cloneUrls, [
      "https://github.com/Codertocat/Hello-World.git",
      "git@github.com:Codertocat/Hello-World.git",
    ]);
    assert.equal(ev.actor, "Codertocat");
    assert.equal(ev.deleted, false);
    assert.deepEqual(ev.payload, payload);
  }
  assert.ok(built >= 2);
});

void test("push to an existing branch lists changed files from the commits", () => {
  const example = githubExamples("push").find((p) => p.ref === "refs/heads/master");
  assert.ok(example);
  const payload = {
    ...example,
    before: "f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
    created: false,
    commits: [
      { id: "a", message: "one", added: ["src/a.ts"], modified: ["README.md"], removed: [] },
      { id: "b", message: "two", added: [], modified: ["src/a.ts"], removed: ["old.txt"] },
    ],
    head_commit: { id: "b", message: "two\n\nbody" },
  };
  const ev = asEvent(deliver("push", payload));
  assert.equal(ev.before, "f95f852bd8fca8fcc58a9a2d6c842781e32a215e");
  assert.deepEqual(ev.changedFiles, ["README.md", "old.txt", "src/a.ts"]);
  assert.equal(ev.title, "two");
  // A forced push's commit list does not describe the change: unknown.
  assert.equal(asEvent(deliver("push", { ...payload, forced: true })).changedFiles, undefined);
});

void test("pull_request examples: head commit, base branch, refs/pull/N/head", () => {
  const examples = githubExamples("pull_request");
  assert.ok(examples.length > 10);
  const actions = new Set<string>();
  for (const payload of examples) {
    const ev = asEvent(deliver("pull_request", payload));
    const pr = payload.pull_request as { head: { sha: string; ref: string }; base: { ref: string } };
    actions.add(ev.action ?? "");
    assert.equal(ev.event, "pull_request");
    assert.equal(ev.action, payload.action);
    assert.equal(ev.commit, pr.head.sha);
    assert.equal(ev.ref, `refs/pull/${String(payload.number)}/head`);
    assert.equal(ev.baseRef, `refs/heads/${pr.base.ref}`);
    assert.equal(ev.pullRequest?.headRef, `refs/heads/${pr.head.ref}`);
    assert.equal(ev.pullRequest?.fetchRef, `refs/pull/${String(payload.number)}/head`);
    assert.equal(ev.title, "Update the README with new information.");
    assert.equal(ev.repository.fullName, "Codertocat/Hello-World");
    assert.deepEqual(ev.payload, payload);
  }
  for (const a of ["opened", "synchronize", "reopened", "closed"]) assert.ok(actions.has(a), a);
  const sync = examples.find((p) => p.action === "synchronize");
  assert.equal(asEvent(deliver("pull_request", sync)).before, sync?.before);
});

void test("ping examples are ignored as ping", () => {
  const examples = githubExamples("ping");
  assert.ok(examples.length > 0);
  for (const payload of examples) assert.deepEqual(deliver("ping", payload), { ignored: "ping" });
});

void test("events are routed by the header only; unknown events are ignored", () => {
  const push = githubExamples("push").find((p) => p.ref === "refs/heads/master");
  // A push body under an issues header is not a push.
  const r = deliver("issues", push);
  assert.ok("ignored" in r);
  // A ping body under a push header is an invalid push, not a ping.
  const ping = githubExamples("ping")[0];
  assert.throws(
    () => deliver("push", ping),
    (e) => isAirlockError(e, "WEBHOOK_INVALID"),
  );
});

void test("missing headers, bad JSON and incomplete payloads are WEBHOOK_INVALID", () => {
  const invalid = (e: unknown): boolean => isAirlockError(e, "WEBHOOK_INVALID");
  const req = signed("github", "push", "{not json");
  assert.throws(() => parseWebhook("github", req), invalid);
  const noEvent = signed("github", "push", "{}");
  delete noEvent.headers["x-github-event"];
  assert.throws(() => parseWebhook("github", noEvent), invalid);
  const noDelivery = signed("github", "push", "{}");
  delete noDelivery.headers["x-github-delivery"];
  assert.throws(() => parseWebhook("github", noDelivery), invalid);
  assert.throws(() => parseWebhook("github", signed("github", "push", "[1,2]")), invalid);
  assert.throws(
    () => parseWebhook("github", signed("github", "push", JSON.stringify({ ref: "refs/heads/x" }))),
    (e) => invalid(e) && JSON.stringify((e as { details: unknown }).details).includes("repository.full_name"),
  );
});

void test("form-encoded deliveries carry the JSON in the payload field", () => {
  const push = githubExamples("push").find((p) => p.ref === "refs/heads/master");
  const body = new URLSearchParams({ payload: JSON.stringify(push) }).toString();
  const req = signed("github", "push", body, {
    headers: { "content-type": "application/x-www-form-urlencoded" },
  });
  verifyWebhook("github", req, SECRET);
  assert.equal(asEvent(parseWebhook("github", req)).commit, push?.after);
});

void test("refs and commit ids git would never produce make the delivery invalid", () => {
  const push = githubExamples("push").find((p) => p.ref === "refs/heads/master");
  const invalid = (e: unknown): boolean => isAirlockError(e, "WEBHOOK_INVALID");
  for (const ref of [
    "refs/heads/--upload-pack=x",
    "refs/heads/a..b",
    "main",
    "refs/heads/a b",
    "refs/heads/x\n",
  ])
    assert.throws(() => deliver("push", { ...push, ref }), invalid, ref);
  assert.throws(() => deliver("push", { ...push, after: "HEAD~1" }), invalid);
  const pr = githubExamples("pull_request")[0] as { pull_request: { head: Record<string, unknown> } };
  const hostile = {
    ...pr,
    pull_request: { ...pr.pull_request, head: { ...pr.pull_request.head, ref: "-x" } },
  };
  assert.throws(() => deliver("pull_request", hostile), invalid);
});

void test("repository_dispatch examples: the event type as action, the branch named, no commit", () => {
  const examples = githubExamples("repository_dispatch");
  assert.ok(examples.length > 0);
  for (const payload of examples) {
    const ev = asEvent(deliver("repository_dispatch", payload));
    assert.equal(ev.event, "repository_dispatch");
    assert.equal(ev.action, payload.action);
    assert.equal(ev.ref, `refs/heads/${String(payload.branch)}`);
    assert.equal(ev.commit, undefined);
    assert.deepEqual(ev.payload.client_payload, payload.client_payload);
  }
  const noType = { ...githubExamples("repository_dispatch")[0] };
  delete noType.action;
  assert.throws(
    () => deliver("repository_dispatch", noType),
    (e) => isAirlockError(e, "WEBHOOK_INVALID") && /action/.test(e.message),
  );
});

void test("merge_group examples: the group's head commit on its ref, filtered by its base", () => {
  const examples = githubExamples("merge_group");
  assert.ok(examples.length > 0);
  for (const payload of examples) {
    const group = payload.merge_group as Record<string, string>;
    const ev = asEvent(deliver("merge_group", payload));
    assert.equal(ev.event, "merge_group");
    assert.equal(ev.action, payload.action);
    assert.equal(ev.commit, group.head_sha);
    assert.equal(ev.ref, group.head_ref);
    assert.equal(ev.fetchRef, group.head_ref);
    assert.equal(ev.baseRef, group.base_ref);
  }
  const noHead = structuredClone(githubExamples("merge_group")[0]) as {
    merge_group: Record<string, unknown>;
  };
  delete noHead.merge_group.head_sha;
  assert.throws(
    () => deliver("merge_group", noHead),
    (e) => isAirlockError(e, "WEBHOOK_INVALID") && /merge_group\.head_sha/.test(e.message),
  );
});
