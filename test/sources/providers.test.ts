// GitLab, Gitea/Forgejo and Bitbucket deliveries normalised from fixture payloads modelled on
// each provider's documented examples (test/sources/fixtures), signed as each provider signs.
import assert from "node:assert/strict";
import { test } from "node:test";
import { isAirlockError } from "../../src/errors/index.js";
import {
  parseWebhook,
  parseWebhookEvents,
  verifyWebhook,
  type Provider,
  type SourceEvent,
} from "../../src/sources/index.js";
import { fixture, SECRET, signed } from "./helpers.js";

function deliver(provider: Provider, event: string, body: Buffer | string, headers = {}): SourceEvent {
  const req = signed(provider, event, body, { headers });
  verifyWebhook(provider, req, SECRET);
  const r = parseWebhook(provider, req);
  assert.ok(!("ignored" in r), `ignored: ${"ignored" in r ? r.ignored : ""}`);
  return r;
}

// Fixture payloads are edited freely in tests; typing each shape would add nothing.
/* eslint-disable @typescript-eslint/no-explicit-any */
function edit(name: string, change: (p: Record<string, any>) => void): string {
  const p = JSON.parse(fixture(name).toString()) as Record<string, any>;
  change(p);
  return JSON.stringify(p);
}
/* eslint-enable @typescript-eslint/no-explicit-any */

void test("gitlab: Push Hook", () => {
  const ev = deliver("gitlab", "Push Hook", fixture("gitlab-push.json"));
  assert.equal(ev.event, "push");
  assert.equal(ev.ref, "refs/heads/master");
  assert.equal(ev.before, "95790bf891e76fee5e1747ab589903a6a1f80f22");
  assert.equal(ev.commit, "da1560886d4f094c3e6c9ef40349f7d38b5d27d7");
  assert.deepEqual(ev.changedFiles, [
    "CHANGELOG",
    "README.md",
    "app/controller/application.rb",
    "docs/old.md",
  ]);
  assert.deepEqual(ev.repository, {
    fullName: "mike/diaspora",
    cloneUrls: ["http://example.com/mike/diaspora.git", "git@example.com:mike/diaspora.git"],
    htmlUrl: "http://example.com/mike/diaspora",
    defaultBranch: "master",
  });
  assert.equal(ev.actor, "jsmith");
  assert.equal(ev.title, "fixed readme");
  // GitHub-shaped payload for github.event.
  assert.equal(ev.payload.after, ev.commit);
  assert.equal((ev.payload.repository as { full_name: string }).full_name, "mike/diaspora");
  assert.equal((ev.payload.head_commit as { id: string }).id, ev.commit);
});

void test("gitlab: a truncated commit list leaves changed files unknown", () => {
  const body = edit("gitlab-push.json", (p) => (p.total_commits_count = 40));
  assert.equal(deliver("gitlab", "Push Hook", body).changedFiles, undefined);
});

void test("gitlab: Tag Push Hook and branch deletion", () => {
  const ev = deliver("gitlab", "Tag Push Hook", fixture("gitlab-tag-push.json"));
  assert.equal(ev.ref, "refs/tags/v1.0.0");
  assert.equal(ev.commit, "82b3d5ae55f7080f1e6022629cdb57bfae7cccc7");
  assert.equal(ev.before, undefined);
  const deleted = edit("gitlab-push.json", (p) => {
    p.after = "0".repeat(40);
    p.checkout_sha = null;
    p.commits = [];
  });
  const r = parseWebhook("gitlab", signed("gitlab", "Push Hook", deleted));
  assert.ok("ignored" in r);
});

void test("gitlab: Merge Request Hook actions map to GitHub's", () => {
  const ev = deliver("gitlab", "Merge Request Hook", fixture("gitlab-merge-request.json"));
  assert.equal(ev.event, "pull_request");
  assert.equal(ev.action, "opened");
  assert.equal(ev.commit, "da1560886d4f094c3e6c9ef40349f7d38b5d27d7");
  assert.equal(ev.ref, "refs/pull/1/head");
  assert.equal(ev.baseRef, "refs/heads/master");
  assert.equal(ev.title, "MS-Viewport");
  assert.deepEqual(ev.pullRequest, {
    number: 1,
    headRef: "refs/heads/ms-viewport",
    headCloneUrls: ["http://example.com/awesome_space/awesome_project.git"],
    fetchRef: "refs/merge-requests/1/head",
    merged: false,
    headRepository: "awesome_space/awesome_project",
  });
  const pr = ev.payload.pull_request as { head: { sha: string }; base: { ref: string } };
  assert.equal(pr.head.sha, ev.commit);
  assert.equal(pr.base.ref, "master");
  const cases: Array<[string, string | undefined, string | undefined]> = [
    ["update", "95790bf891e76fee5e1747ab589903a6a1f80f22", "synchronize"],
    ["update", undefined, "edited"],
    ["reopen", undefined, "reopened"],
    ["close", undefined, "closed"],
    ["merge", undefined, "closed"],
    ["approved", undefined, undefined],
  ];
  for (const [action, oldrev, expected] of cases) {
    const body = edit("gitlab-merge-request.json", (p) => {
      p.object_attributes.action = action;
      if (oldrev) p.object_attributes.oldrev = oldrev;
    });
    const r = parseWebhook("gitlab", signed("gitlab", "Merge Request Hook", body));
    if (expected === undefined) assert.ok("ignored" in r, action);
    else {
      assert.ok(!("ignored" in r));
      assert.equal(r.action, expected, action);
      if (oldrev) assert.equal(r.before, oldrev);
      if (action === "merge") assert.equal(r.pullRequest?.merged, true);
    }
  }
});

void test("gitlab: Idempotency-Key is preferred as delivery id; other hooks are ignored", () => {
  const ev = deliver("gitlab", "Push Hook", fixture("gitlab-push.json"), {
    "idempotency-key": "retry-key-1",
  });
  assert.equal(ev.deliveryId, "retry-key-1");
  assert.ok("ignored" in parseWebhook("gitlab", signed("gitlab", "Issue Hook", "{}")));
  // Routing is by header: a push body under "System Hook" is not a push.
  assert.ok(
    "ignored" in parseWebhook("gitlab", signed("gitlab", "System Hook", fixture("gitlab-push.json"))),
  );
});

void test("gitea: push", () => {
  const ev = deliver("gitea", "push", fixture("gitea-push.json"));
  assert.equal(ev.provider, "gitea");
  assert.equal(ev.ref, "refs/heads/develop");
  assert.equal(ev.commit, "bffeb74224043ba2feb48d137756c8a9331c449a");
  assert.equal(ev.before, "28e1879d029cb852e4844d9c718537df08844e03");
  assert.deepEqual(ev.changedFiles, [".gitea/notes.md", "src/main.go"]);
  assert.deepEqual(ev.repository.cloneUrls, [
    "http://localhost:3000/gitea/webhooks.git",
    "ssh://gitea@localhost:2222/gitea/webhooks.git",
  ]);
  assert.equal(ev.title, "Webhooks Yay!");
  assert.equal(ev.actor, "gitea");
  const capped = edit("gitea-push.json", (p) => (p.total_commits = 30));
  assert.equal(deliver("gitea", "push", capped).changedFiles, undefined);
  const deleted = edit("gitea-push.json", (p) => (p.after = "0".repeat(40)));
  assert.ok("ignored" in parseWebhook("gitea", signed("gitea", "push", deleted)));
});

void test("gitea: pull_request synchronized becomes synchronize", () => {
  const ev = deliver("gitea", "pull_request", fixture("gitea-pull-request.json"));
  assert.equal(ev.action, "synchronize");
  assert.equal(ev.payload.action, "synchronize");
  assert.equal(ev.commit, "4e2ba0d4e1f0a7a8b5a0d0e9c2f3b4a5c6d7e8f9");
  assert.equal(ev.ref, "refs/pull/7/head");
  assert.equal(ev.baseRef, "refs/heads/master");
  assert.deepEqual(ev.pullRequest?.headCloneUrls, ["http://localhost:3000/alice/webhooks.git"]);
  assert.equal(ev.pullRequest?.fetchRef, "refs/pull/7/head");
});

void test("forgejo: X-Forgejo-Event and X-Forgejo-Delivery route the delivery", () => {
  const req = signed("gitea", "ignored-header", fixture("gitea-push.json"));
  delete req.headers["x-gitea-event"];
  delete req.headers["x-gitea-delivery"];
  req.headers["x-forgejo-event"] = "push";
  req.headers["x-forgejo-delivery"] = "forgejo-1";
  const r = parseWebhook("gitea", req);
  assert.ok(!("ignored" in r));
  assert.equal(r.deliveryId, "forgejo-1");
  assert.equal(r.event, "push");
});

void test("bitbucket: repo:push yields one event per pushed ref, deletions skipped", () => {
  const req = signed("bitbucket", "repo:push", fixture("bitbucket-push.json"), { delivery: "bb-1" });
  verifyWebhook("bitbucket", req, SECRET);
  const events = parseWebhookEvents("bitbucket", req);
  assert.ok(Array.isArray(events));
  assert.deepEqual(
    events.map((e) => [e.deliveryId, e.ref, e.commit, e.before]),
    [
      [
        "bb-1",
        "refs/heads/main",
        "8d1e2b5c7f3a9e4d6b0c1a2f3e4d5c6b7a8f9e0d",
        "1e65c05c1d5171631d92438a13901ca7dae9618c",
      ],
      ["bb-1#1", "refs/tags/v1.2.0", "8d1e2b5c7f3a9e4d6b0c1a2f3e4d5c6b7a8f9e0d", undefined],
    ],
  );
  const [first] = events;
  assert.equal(first?.title, "Add pipeline badge to the README");
  assert.equal(first?.actor, "emma");
  assert.equal(first?.changedFiles, undefined);
  assert.deepEqual(first?.repository.cloneUrls, [
    "https://bitbucket.org/teamsinspace/website.git",
    "git@bitbucket.org:teamsinspace/website.git",
  ]);
  assert.equal(first?.payload.after, first?.commit);
  // parseWebhook gives the first event.
  assert.equal((parseWebhook("bitbucket", req) as SourceEvent).ref, "refs/heads/main");
  const onlyDeleted = edit("bitbucket-push.json", (p) => (p.push.changes = [p.push.changes[1]]));
  assert.ok("ignored" in parseWebhook("bitbucket", signed("bitbucket", "repo:push", onlyDeleted)));
});

void test("bitbucket: pull requests", () => {
  const ev = deliver("bitbucket", "pullrequest:created", fixture("bitbucket-pull-request.json"));
  assert.equal(ev.action, "opened");
  assert.equal(ev.commit, "8d1e2b5c7f3a"); // Bitbucket sends an abbreviated hash
  assert.equal(ev.ref, "refs/pull/12/head");
  assert.equal(ev.baseRef, "refs/heads/main");
  assert.equal(ev.pullRequest?.headRef, "refs/heads/feature/build-image");
  assert.deepEqual(ev.pullRequest?.headCloneUrls, [
    "https://bitbucket.org/emma/website.git",
    "git@bitbucket.org:emma/website.git",
  ]);
  assert.equal(ev.pullRequest?.fetchRef, undefined);
  const body = fixture("bitbucket-pull-request.json");
  assert.equal(deliver("bitbucket", "pullrequest:updated", body).action, "synchronize");
  const merged = deliver("bitbucket", "pullrequest:fulfilled", body);
  assert.equal(merged.action, "closed");
  assert.equal(merged.pullRequest?.merged, true);
  assert.equal(deliver("bitbucket", "pullrequest:rejected", body).pullRequest?.merged, false);
  assert.ok("ignored" in parseWebhook("bitbucket", signed("bitbucket", "pullrequest:approved", body)));
  assert.deepEqual(parseWebhook("bitbucket", signed("bitbucket", "diagnostics:ping", "{}")), {
    ignored: "ping",
  });
});

void test("every provider: missing event or delivery header is WEBHOOK_INVALID", () => {
  const cases: Array<[Provider, string, string]> = [
    ["gitlab", "x-gitlab-event", "x-gitlab-event-uuid"],
    ["gitea", "x-gitea-event", "x-gitea-delivery"],
    ["bitbucket", "x-event-key", "x-request-uuid"],
  ];
  for (const [provider, eventHeader, deliveryHeader] of cases) {
    for (const h of [eventHeader, deliveryHeader]) {
      const req = signed(provider, "push", "{}");
      delete req.headers[h];
      assert.throws(
        () => parseWebhook(provider, req),
        (e) => isAirlockError(e, "WEBHOOK_INVALID"),
        h,
      );
    }
  }
});
