// The administration pages' pure logic (web/src/pages/admin/logic.ts): form parsing into API
// bodies, audit filters, formatting; and the answer shapes the UI keeps beside the server's.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  adminOrganizations,
  capacityTiles,
  auditQuery,
  confirmationMatches,
  countRows,
  detailsText,
  formatMb,
  localToIso,
  nameProblem,
  nodeState,
  parseList,
  parseOptionalInt,
  repoFormOf,
  repoPatch,
  TOKEN_SCOPES,
} from "../../web/src/pages/admin/logic.js";
import type * as Web from "../../web/src/pages/admin/types.js";
import type { AuditEntryView, NodeRegistration, UserView } from "../../src/server/schemas.js";
import type { EnvironmentView } from "../../src/environments/store.js";
import { SCOPES } from "../../src/auth/scopes.js";

// Compile-time: the UI's copies of answer shapes equal the server's (the type-check fails otherwise).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const shapes: [
  Same<Web.UserView, UserView>,
  Same<Web.AuditEntryView, AuditEntryView>,
  Same<Web.NodeRegistration, NodeRegistration>,
  Same<Web.EnvironmentView, EnvironmentView>,
] = [true, true, true, true];

test("answer shapes the UI keeps are the server's", () => {
  assert.deepEqual(shapes, [true, true, true, true]);
});

test("token scopes offered are exactly the server's", () => {
  assert.deepEqual([...TOKEN_SCOPES], [...SCOPES]);
});

test("parseList splits on commas and lines, trims, drops empties and duplicates", () => {
  assert.deepEqual(parseList(" linux, x64\n\ngpu ,linux,"), ["linux", "x64", "gpu"]);
  assert.deepEqual(parseList(""), []);
  assert.deepEqual(parseList("a b"), ["a b"], "spaces inside an entry are the server's to judge");
});

test("parseOptionalInt: empty is null, else a whole number in range", () => {
  assert.deepEqual(parseOptionalInt("  ", "poll", 10, 100), { ok: true, value: null });
  assert.deepEqual(parseOptionalInt("60", "poll", 10, 100), { ok: true, value: 60 });
  const low = parseOptionalInt("5", "poll", 10, 100);
  assert.equal(low.ok, false);
  assert.match(!low.ok ? low.error : "", /^poll: expected 10 to 100$/);
  assert.equal(parseOptionalInt("1.5", "poll", 1, 100).ok, false);
  assert.equal(parseOptionalInt("-3", "poll", 1, 100).ok, false);
  assert.equal(parseOptionalInt("1e3", "poll", 1, 10000).ok, false);
});

const repo = {
  cloneUrl: "https://git.example/o/r.git",
  defaultBranch: "main",
  pollIntervalSeconds: null,
  maxConcurrentJobs: 4,
  visibility: "private",
};

test("repoPatch sends only what changed", () => {
  const form = repoFormOf(repo);
  assert.deepEqual(form, {
    cloneUrl: repo.cloneUrl,
    defaultBranch: "main",
    pollIntervalSeconds: "",
    maxConcurrentJobs: "4",
    visibility: "private",
  });
  assert.deepEqual(repoPatch(repo, form), { ok: false, error: "nothing changed" });
  assert.deepEqual(repoPatch(repo, { ...form, defaultBranch: " trunk ", pollIntervalSeconds: "60" }), {
    ok: true,
    value: { defaultBranch: "trunk", pollIntervalSeconds: 60 },
  });
  assert.deepEqual(repoPatch(repo, { ...form, maxConcurrentJobs: "" }), {
    ok: true,
    value: { maxConcurrentJobs: null },
  });
  assert.deepEqual(repoPatch(repo, { ...form, visibility: "public" }), {
    ok: true,
    value: { visibility: "public" },
  });
  const bad = repoPatch(repo, { ...form, pollIntervalSeconds: "3" });
  assert.equal(bad.ok, false);
});

test("repoPatch leaves visibility out when the server does not report one", () => {
  const { visibility: _v, ...old } = repo;
  const form = repoFormOf(old);
  assert.equal(form.visibility, "");
  assert.deepEqual(repoPatch(old, { ...form, defaultBranch: "dev" }), {
    ok: true,
    value: { defaultBranch: "dev" },
  });
});

test("a typed confirmation must be the exact name", () => {
  assert.equal(confirmationMatches("acme/web", "acme/web"), true);
  assert.equal(confirmationMatches(" acme/web ", "acme/web"), true);
  assert.equal(confirmationMatches("ACME/web", "acme/web"), false);
  assert.equal(confirmationMatches("acme/we", "acme/web"), false);
  assert.equal(confirmationMatches("", ""), false);
});

test("auditQuery leaves empty filters out and sends times in UTC", () => {
  assert.deepEqual(auditQuery({ actor: "", action: "", object: "", since: "", until: "" }), { limit: 50 });
  const q = auditQuery(
    { actor: " user:1 ", action: "repository", object: "repository:3", since: "2026-12-01T10:00", until: "" },
    77,
    20,
  );
  assert.deepEqual(q, {
    limit: 20,
    actor: "user:1",
    action: "repository",
    object: "repository:3",
    since: new Date("2026-12-01T10:00").toISOString(),
    before: 77,
  });
  assert.match(String(q.since), /Z$/);
  assert.equal(localToIso("not a date"), undefined);
  assert.equal(localToIso(""), undefined);
});

test("detailsText renders details as one line of key=value", () => {
  assert.equal(detailsText({ name: "o/r", allow: ["a", "b"], n: 2 }), 'name=o/r allow=["a","b"] n=2');
  assert.equal(detailsText({}), "");
});

test("formatMb", () => {
  assert.equal(formatMb(512), "512 MB");
  assert.equal(formatMb(8192), "8.0 GB");
  assert.equal(formatMb(3 * 1024 * 1024), "3.0 TB");
});

test("nodeState: revoked over disabled over draining over connection", () => {
  const n = { enabled: true, connected: true, draining: false, revokedAt: null };
  assert.equal(nodeState(n), "online");
  assert.equal(nodeState({ ...n, connected: false }), "offline");
  assert.equal(nodeState({ ...n, draining: true }), "draining");
  assert.equal(nodeState({ ...n, enabled: false, draining: true }), "disabled");
  assert.equal(nodeState({ ...n, enabled: false, revokedAt: "2026-01-01T00:00:00Z" }), "revoked");
});

test("adminOrganizations: organization-wide admin grants only", () => {
  assert.deepEqual(
    adminOrganizations([
      { organization: "acme", repositoryId: null, role: "admin" },
      { organization: "beta", repositoryId: 3, role: "admin" },
      { organization: "gamma", repositoryId: null, role: "maintainer" },
      { organization: "acme", repositoryId: null, role: "admin" },
    ]),
    ["acme"],
  );
});

test("countRows sorts by count then name and skips non-numbers", () => {
  assert.deepEqual(countRows({ queued: 2, running: 5, completed: 2, bad: "x" as unknown as number }), [
    ["running", 5],
    ["completed", 2],
    ["queued", 2],
  ]);
  assert.deepEqual(countRows(undefined), []);
});

test("nameProblem follows GitHub's secret name rules", () => {
  assert.equal(nameProblem("DEPLOY_KEY"), undefined);
  assert.equal(nameProblem("_x1"), undefined);
  assert.match(nameProblem("1ABC") ?? "", /digit/);
  assert.match(nameProblem("MY-KEY") ?? "", /letters/);
  assert.match(nameProblem("github_token") ?? "", /GITHUB_/);
  assert.match(nameProblem("  ") ?? "", /required/);
});

test("capacityTiles: used of offered, running jobs, unknown numbers kept, junk ignored", () => {
  assert.deepEqual(
    capacityTiles({
      cpus: 8,
      usedCpus: 2,
      memoryMb: 16384,
      usedMemoryMb: 512,
      runningJobs: 3,
      slots: 4,
      x: "y",
    }),
    [
      { n: "2 / 8", what: "CPUs in use" },
      { n: "512 MB / 16.0 GB", what: "memory in use" },
      { n: "3", what: "jobs holding machines" },
      { n: "4", what: "slots" },
    ],
  );
  assert.deepEqual(capacityTiles(12), [{ n: "12", what: "capacity" }]);
  assert.deepEqual(capacityTiles(null), []);
  assert.deepEqual(capacityTiles("big"), []);
});
